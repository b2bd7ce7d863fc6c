import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SipIdentity } from '../../core/sip/sip-identity.js';
import type { SipCall } from '../../core/sip/sip-call.js';
import type { SipTransportKind } from '../../core/sip/transport/endpoint.js';
import { labIdentityOptions } from '../../test/support/lab-identity.js';
import { clientFrame, rawWebSocket } from '../../test/support/raw-websocket.js';
import { until } from '../../test/support/until.js';
import { SipLabServer, type SipLabServerOptions } from './sip-lab-server.js';

/** A raw TCP connection to the lab, with a promise of its end; `received` collects what the lab sent. */
interface Raw {
  socket: net.Socket;
  closed: Promise<void>;
  isClosed(): boolean;
  received(): string;
}

function rawTcp(port: number, localAddress = '127.0.0.1'): Promise<Raw> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let text = '';
    let closed = false;
    const done = new Promise<void>((ended) => socket.once('close', () => ((closed = true), ended())));
    socket.on('data', (chunk: Buffer) => void (text += chunk.toString('latin1')));
    socket.on('error', () => undefined); // a refused connection is reset: the test looks at 'close' and the lab's counters
    const raw = { socket, closed: done, isClosed: () => closed, received: () => text };
    // a refused connection may be reset before its 'connect' is seen: it is one all the same
    socket.once('connect', () => resolve(raw));
    socket.once('close', () => resolve(raw));
  });
}

let sequence = 0;
function request(method: 'OPTIONS' | 'REGISTER', transport: 'TCP' | 'WS', options: { user?: string; expires?: number; cseq?: number } = {}): string {
  const n = ++sequence;
  const user = options.user ?? 'probe';
  return [
    `${method} sip:127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:9;branch=z9hG4bKconn${n}`,
    'Max-Forwards: 70',
    `From: <sip:${user}@127.0.0.1>;tag=t${n}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: conn-${user}-${method}`,
    `CSeq: ${options.cseq ?? n} ${method}`,
    ...(method === 'REGISTER' ? [`Contact: <sip:${user}@127.0.0.1:9;transport=${transport.toLowerCase()}>`, `Expires: ${options.expires ?? 600}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('the lab\'s TCP and WebSocket listeners under abuse', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function start(options: SipLabServerOptions = {}): Promise<SipLabServer> {
    const lab = await SipLabServer.start({ timers: { t1: 100, t2: 400 }, ...options });
    cleanup.push(() => lab.stop());
    return lab;
  }

  async function identity(lab: SipLabServer, user: string, transport: SipTransportKind, incoming?: (c: SipCall) => void): Promise<SipIdentity> {
    const id = await SipIdentity.create({ ...labIdentityOptions(lab, user, transport), ...(incoming ? { onIncomingCall: incoming } : {}) });
    cleanup.push(() => id.dispose());
    return id;
  }

  /** Alice (TCP) calls Bob (WebSocket) through the lab and hangs up. */
  async function callWorks(lab: SipLabServer, alice: SipIdentity, received: SipCall[]): Promise<void> {
    const before = received.length;
    const call = alice.createCall(`sip:bob@127.0.0.1:${lab.ports.tcp}`);
    expect(await call.invite()).toBe(200);
    expect(received).toHaveLength(before + 1);
    await call.hangup();
    await Promise.all([call.whenEnded(), received.at(-1)!.whenEnded()]);
  }

  it('closes only the WebSocket that sent a bad frame, with or without the sip subprotocol; a call in progress goes on', async () => {
    const lab = await start();
    const received: SipCall[] = [];
    const alice = await identity(lab, 'alice', 'ws');
    await identity(lab, 'bob', 'tcp', (c) => (received.push(c), void c.answer())).then((bob) => bob.register());
    await alice.register();
    const call = alice.createCall(`sip:bob@127.0.0.1:${lab.ports.ws}`);
    expect(await call.invite()).toBe(200);

    const port = lab.ports.ws!;
    const badUtf8 = await rawWebSocket({ port, protocol: 'sip' });
    expect(badUtf8.status).toBe('HTTP/1.1 101 Switching Protocols');
    badUtf8.write(clientFrame(0x1, Buffer.from([0x4f, 0x50, 0xc3, 0x28, 0xff])));
    const tooLarge = await rawWebSocket({ port, protocol: 'sip' });
    tooLarge.write(clientFrame(0x1, Buffer.alloc(8), { declaredLength: 1 << 20 }));
    // No subprotocol: the lab answers with a close (1002); a bad frame sent before that close completes.
    const noSip = await rawWebSocket({ port, answerClose: false });
    noSip.write(clientFrame(0x1, Buffer.from([0xff, 0xfe])));
    noSip.socket.end();
    await Promise.all([badUtf8.closed, tooLarge.closed, noSip.closed]);
    expect(badUtf8.closeCode()).toBe(1007);
    expect(tooLarge.closeCode()).toBe(1009);
    expect(noSip.closeCode()).toBe(1002);
    await until(() => lab.snapshot().rejected.NO_SIP_SUBPROTOCOL === 1 && lab.snapshot().rejected.WS_ERR_INVALID_UTF8 === 2);
    expect(lab.snapshot().rejected).toMatchObject({ WS_ERR_INVALID_UTF8: 2, WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1, NO_SIP_SUBPROTOCOL: 1 });
    // a plain HTTP request and a malformed one are answered and counted too
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(426);
    const garbage = await rawTcp(port);
    garbage.socket.write('\x00\x01 not HTTP at all\r\n\r\n');
    await garbage.closed;
    expect(garbage.received()).toMatch(/^HTTP\/1\.1 400 /);
    expect(lab.snapshot().rejected).toMatchObject({ NOT_AN_UPGRADE: 1, HPE_INVALID_METHOD: 1 });

    // Alice's WebSocket flow and her call are untouched: Bob hangs up over it.
    expect(call.state).toBe('established');
    await received[0]!.hangup();
    await call.whenEnded();
    expect(call.endedBy).toBe('remote');
  });

  it('holds its caps in total, per source address and on users, counts every refusal, and a call still works while all are full', async () => {
    // 8 connections in all, 3 per source address, 2 users: the phones on 127.0.0.1, the others from elsewhere in 127/8
    const lab = await start({ connectionLimits: { maxConnections: 8, maxPerSource: 3 }, registrarLimits: { maxUsers: 2 } });
    const received: SipCall[] = [];
    const alice = await identity(lab, 'alice', 'tcp');
    const bob = await identity(lab, 'bob', 'ws', (c) => (received.push(c), void c.answer()));
    expect(await alice.register()).toBe(200);
    expect(await bob.register()).toBe(200);
    const open = (): number => lab.snapshot().connections.open;
    const rejected = (code: string): number => lab.snapshot().rejected[code] ?? 0;
    expect(open()).toBe(2);

    // 127.0.0.2 opens 5 TCP connections and sends half a REGISTER on each: 3 are held, 2 refused at accept.
    const fromTwo = await Promise.all(Array.from({ length: 5 }, () => rawTcp(lab.ports.tcp!, '127.0.0.2')));
    for (const c of fromTwo) if (!c.isClosed()) c.socket.write(request('REGISTER', 'TCP', { user: 'mallory' }).slice(0, 60));
    await until(() => open() === 5 && rejected('TOO_MANY_FROM_SOURCE') === 2);
    await until(() => fromTwo.filter((c) => c.isClosed()).length === 2);
    // 127.0.0.3 half-opens 3 WebSocket upgrades: the lab is full.
    const fromThree = await Promise.all(Array.from({ length: 3 }, () => rawTcp(lab.ports.ws!, '127.0.0.3')));
    for (const c of fromThree) c.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    await until(() => open() === 8);
    // Anyone else is refused, over TCP and WebSocket alike.
    const fromFour = await Promise.all([rawTcp(lab.ports.tcp!, '127.0.0.4'), rawTcp(lab.ports.ws!, '127.0.0.4')]);
    await Promise.all(fromFour.map((c) => c.closed));
    await until(() => rejected('TOO_MANY_CONNECTIONS') === 2);
    expect(open()).toBe(8);
    expect(fromTwo.filter((c) => c.isClosed())).toHaveLength(2);
    expect(fromThree.filter((c) => c.isClosed())).toHaveLength(0);

    // A third user is refused by the registrar (over UDP: no connection needed), the two it has refresh.
    const carol = await identity(lab, 'carol', 'udp');
    await expect(carol.register()).rejects.toMatchObject({ status: 503 });
    expect(lab.snapshot().registrar).toMatchObject({ users: 2, bindings: 2, refused: { USERS: 1 }, limits: { maxUsers: 2 } });

    // The call between the phones that hold their flows works while every cap is full.
    await callWorks(lab, alice, received);
    expect(await alice.register()).toBe(200);
    expect(lab.snapshot().connections).toMatchObject({ open: 8, sources: 3, limits: { maxConnections: 8, maxPerSource: 3 } });

    // The slots come back when the holders leave.
    for (const c of [...fromTwo, ...fromThree]) c.socket.destroy();
    await until(() => open() === 2);
    const again = await rawTcp(lab.ports.tcp!, '127.0.0.4');
    again.socket.write(request('OPTIONS', 'TCP'));
    await until(() => /^SIP\/2\.0 200 /.test(again.received()));
    expect(open()).toBe(3);
  });

  it('times out a connection that sends nothing, half a message or nothing more, but keeps a registered flow', async () => {
    const lab = await start({ connectionLimits: { firstMessageTimeoutMs: 2000, incompleteMessageTimeoutMs: 500, idleTimeoutMs: 1000 } });
    const received: SipCall[] = [];
    const alice = await identity(lab, 'alice', 'tcp');
    const bob = await identity(lab, 'bob', 'ws', (c) => (received.push(c), void c.answer()));
    await Promise.all([alice.register(), bob.register()]);
    const rejected = (): Record<string, number> => lab.snapshot().rejected;
    const tcp = lab.ports.tcp!;
    const ws = lab.ports.ws!;

    // A registered flow that then unregisters: the registration held it; without one it goes when idle.
    const dave = await rawTcp(tcp);
    dave.socket.write(request('REGISTER', 'TCP', { user: 'dave', cseq: 1 }));
    await until(() => /^SIP\/2\.0 200 /.test(dave.received()));

    const silent = await rawTcp(tcp); // sends nothing at all
    const half = await rawTcp(tcp); // a whole OPTIONS, then half of another
    half.socket.write(request('OPTIONS', 'TCP') + request('OPTIONS', 'TCP').slice(0, 70));
    const idle = await rawTcp(tcp); // a whole OPTIONS, then silence
    idle.socket.write(request('OPTIONS', 'TCP'));
    const halfUpgrade = await rawTcp(ws);
    halfUpgrade.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const halfFrame = await rawWebSocket({ port: ws, protocol: 'sip' });
    halfFrame.write(Buffer.concat([clientFrame(0x1, Buffer.from(request('OPTIONS', 'WS'))), clientFrame(0x1, Buffer.from(request('OPTIONS', 'WS'))).subarray(0, 40)]));

    await Promise.all([silent.closed, half.closed, idle.closed, halfUpgrade.closed, halfFrame.closed]);
    expect(rejected()).toMatchObject({ FIRST_MESSAGE_TIMEOUT: 2, INCOMPLETE_MESSAGE_TIMEOUT: 2, IDLE_TIMEOUT: 1 });
    expect(half.received()).toMatch(/^SIP\/2\.0 200 /); // the whole message was answered before

    // Dave's, Alice's and Bob's flows were silent longer than `idle`'s, and are still open: their registrations hold them.
    expect(dave.isClosed()).toBe(false);
    for (const binding of lab.bindings()) expect(lab.transports.hasConnection(binding.hop.connectionId!), binding.user).toBe(true);
    await callWorks(lab, alice, received);

    dave.socket.write(request('REGISTER', 'TCP', { user: 'dave', expires: 0, cseq: 2 }));
    await dave.closed;
    expect(rejected().IDLE_TIMEOUT).toBe(2);
    expect(lab.bindings().map((b) => b.user).sort()).toEqual(['alice', 'bob']);
  });
});
