import dgram from 'node:dgram';
import net from 'node:net';
import { createResponse, parseSipMessage, type SipMessage, type SipRequest, type SipResponse } from '../../core/sip/message/index.js';
import { StreamFramer } from '../../core/sip/transport/stream-framer.js';
import type { Endpoint } from '../../core/sip/transport/endpoint.js';
import { rfc4475Message, type TortureAnswer, type TortureCase } from './rfc4475-table.js';

/** Messages as they arrive, and a way to wait for one (bounded: a wait that times out is a failed expectation). */
export class Inbox {
  readonly messages: SipMessage[] = [];
  private waiters: Array<{ match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];

  push(message: SipMessage): void {
    this.messages.push(message);
    for (const waiter of [...this.waiters]) {
      if (!waiter.match(message)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    }
  }

  /** The first message (already here or still to come) that matches, or undefined after `ms`. */
  next(match: (m: SipMessage) => boolean, ms: number): Promise<SipMessage | undefined> {
    const found = this.messages.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const waiter = { match, resolve: (m: SipMessage | undefined) => (clearTimeout(timer), resolve(m)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, ms);
      this.waiters.push(waiter);
    });
  }
}

function parsed(data: Buffer): SipMessage | undefined {
  try {
    return parseSipMessage(data);
  } catch {
    return undefined;
  }
}

/**
 * A UDP socket on a loopback address of its own, at port 5060: a user agent answers a request whose Via names no port
 * at the `received` address and port 5060 (RFC 3261 §18.2.2), so that is where its answers to the RFC's messages land.
 */
export async function bindPeer(): Promise<{ socket: dgram.Socket; local: Endpoint; inbox: Inbox }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const address = `127.0.${1 + Math.floor(Math.random() * 200)}.${2 + Math.floor(Math.random() * 250)}`;
    const socket = dgram.createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(5060, address, () => resolve(true));
    });
    if (!bound) {
      socket.close();
      continue;
    }
    const inbox = new Inbox();
    socket.on('message', (data) => {
      const message = parsed(data);
      if (message) inbox.push(message);
    });
    return { socket, local: { address, port: 5060 }, inbox };
  }
  throw new Error('no free loopback address for port 5060');
}

/** The next hop a proxy forwards to: records each request and answers 486 to an INVITE, 200 to anything else. */
export async function startSink(): Promise<{ socket: dgram.Socket; port: number; inbox: Inbox }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const inbox = new Inbox();
  socket.on('message', (data, rinfo) => {
    const message = parsed(data);
    if (!message) return;
    inbox.push(message);
    if (message.kind !== 'request' || message.method === 'ACK') return;
    const answer = createResponse(message, message.method === 'INVITE' ? 486 : 200, undefined, 'sink');
    socket.send(answer.toString(), rinfo.port, rinfo.address);
  });
  return { socket, port: (socket.address() as net.AddressInfo).port, inbox };
}

/**
 * The phone's server: a registrar that says yes to every REGISTER and 200 to any other request, over UDP or TCP.
 * Over TCP it keeps the phone's connection, so the test can write on it as the server would; what else the phone sends
 * on it (its answers to the test's requests) goes to `inbox`.
 */
export class FakeServer {
  readonly inbox = new Inbox();
  connection?: net.Socket;
  private connectionWaiters: Array<() => void> = [];
  private constructor(
    readonly transport: 'udp' | 'tcp',
    readonly port: number,
    private readonly closeAll: () => void,
    private readonly udp?: dgram.Socket,
  ) {}

  static async start(transport: 'udp' | 'tcp'): Promise<FakeServer> {
    if (transport === 'udp') {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      const server = new FakeServer('udp', (socket.address() as net.AddressInfo).port, () => socket.close(), socket);
      socket.on('message', (data, rinfo) => server.received(data, (raw) => socket.send(raw, rinfo.port, rinfo.address)));
      return server;
    }
    const sockets = new Set<net.Socket>();
    const listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const server = new FakeServer('tcp', (listener.address() as net.AddressInfo).port, () => {
      for (const s of sockets) s.destroy();
      listener.close();
    });
    listener.on('connection', (socket) => {
      sockets.add(socket);
      server.connection = socket;
      const framer = new StreamFramer((data) => server.received(data, (raw) => socket.write(raw)));
      socket.on('data', (chunk) => {
        try {
          framer.push(chunk);
        } catch {
          socket.destroy();
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
      for (const wake of server.connectionWaiters.splice(0)) wake();
    });
    return server;
  }

  /** Resolves once the phone has a connection open with us other than `old`. */
  async connected(old?: net.Socket, ms = 10_000): Promise<net.Socket | undefined> {
    if (this.connection && this.connection !== old && !this.connection.destroyed) return this.connection;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.connectionWaiters.push(() => (clearTimeout(timer), resolve()));
    });
    return this.connection !== old ? this.connection : undefined;
  }

  close(): void {
    this.closeAll();
  }

  private received(data: Buffer, reply: (raw: string) => void): void {
    const message = parsed(data);
    if (!message) return;
    if (message.kind === 'response') {
      this.inbox.push(message);
      return;
    }
    if (message.method === 'ACK') return;
    const answer = createResponse(message, 200, undefined, 'server');
    if (message.method === 'REGISTER') {
      const contact = message.get('contact');
      if (contact) answer.set('contact', contact);
      answer.set('expires', message.get('expires') ?? '600');
    }
    reply(answer.toString());
  }
}

/** The Call-ID a message names (or, lacking one, its top Via branch), the key its answers are matched by. */
export function answerKey(name: string): { callId?: string; branch?: string } {
  const text = rfc4475Message(name).toString('latin1');
  const callId = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(text)?.[1];
  if (callId) return { callId };
  return { branch: /branch=([^;,\s]+)/.exec(text)?.[1] ?? '' };
}

export function isAnswerTo(key: { callId?: string; branch?: string }, message: SipMessage): message is SipResponse {
  if (message.kind !== 'response' || message.status < 200) return false;
  if (key.callId !== undefined) return message.callId === key.callId;
  return (message.get('via') ?? '').includes(`branch=${key.branch}`);
}

/** The ACK a UAC sends for a non-2xx final answer to its INVITE (RFC 3261 §17.1.1.3), when the INVITE can be read. */
export function ackFor(name: string, answer: SipResponse): string | undefined {
  let invite: SipRequest;
  let seq: number;
  try {
    const message = parseSipMessage(rfc4475Message(name));
    if (message.kind !== 'request' || message.method !== 'INVITE') return undefined;
    invite = message;
    seq = message.cseq.seq;
  } catch {
    return undefined;
  }
  const via = answer.get('via');
  const from = invite.get('from');
  const to = answer.get('to');
  if (!via || !from || !to) return undefined;
  return [
    `ACK ${invite.uri} SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    `From: ${from}`,
    `To: ${to}`,
    `Call-ID: ${invite.callId}`,
    `CSeq: ${seq} ACK`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** An OPTIONS the element answers itself: once its answer is in, every message sent before it has been dealt with. */
export function probe(n: number, requestUri: string, via: Endpoint, transport: 'UDP' | 'TCP'): { raw: string; callId: string } {
  const callId = `probe-${n}-${Math.random().toString(36).slice(2)}`;
  const raw = [
    `OPTIONS ${requestUri} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${via.address}:${via.port};branch=z9hG4bKprobe${n}x${Math.random().toString(36).slice(2)}`,
    'Max-Forwards: 70',
    `From: <sip:probe@${via.address}>;tag=probe${n}`,
    `To: ${requestUri.startsWith('sip:user@') ? `<${requestUri}>` : '<sip:probe@127.0.0.1>'}`,
    `Call-ID: ${callId}`,
    `CSeq: ${n} OPTIONS`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return { raw, callId };
}

/** How an answer reads in the report: `400`, `420 unsupported=a, b`, `forwarded (486)`, `dropped`, `closed`. */
export function describeAnswer(answer: TortureAnswer | { status: number; headers?: Record<string, string>; forwardedStatus?: number }): string {
  if ('forwarded' in answer) return 'forwarded';
  if ('dropped' in answer) return 'dropped';
  if ('closed' in answer) return 'closed';
  const headers = Object.entries(answer.headers ?? {}).map(([k, v]) => ` ${k}=${v}`).join('');
  return `${answer.status}${headers}`;
}

/** The answer a case is expected to get over `transport` at an element of `role`. */
export function expected(c: TortureCase, role: 'proxy' | 'ua', transport: 'udp' | 'tcp'): TortureAnswer {
  return transport === 'tcp' && c.stream ? c.stream : c[role];
}
