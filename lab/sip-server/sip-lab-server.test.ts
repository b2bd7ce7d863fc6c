import dgram from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SipIdentity } from '../../core/sip/sip-identity.js';
import type { SipCall } from '../../core/sip/sip-call.js';
import type { SipTransportKind } from '../../core/sip/transport/endpoint.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';
import { fastTimers, labIdentityOptions } from '../../test/support/lab-identity.js';
import { SipLabServer } from './sip-lab-server.js';


describe('SipLabServer with sip.js identities', () => {
  let lab: SipLabServer;
  const identities: SipIdentity[] = [];

  beforeEach(async () => {
    lab = await SipLabServer.start({ users: { alice: { password: 'a-secret' }, bob: { password: 'b-secret' }, carol: {} }, timers: fastTimers });
  });

  afterEach(async () => {
    await Promise.all(identities.splice(0).map((i) => i.dispose()));
    await lab.stop();
  });

  async function identity(user: string, transport: SipTransportKind, extra: { tap?: (e: SipTapEntry) => void; password?: string; incoming?: (c: SipCall) => void } = {}): Promise<SipIdentity> {
    const id = await SipIdentity.create({
      ...labIdentityOptions(lab, user, transport),
      ...(extra.password ? { auth: { username: user, password: extra.password } } : {}),
      ...(extra.tap ? { tap: extra.tap } : {}),
      ...(extra.incoming ? { onIncomingCall: extra.incoming } : {}),
    });
    identities.push(id);
    return id;
  }

  /** A caller outside sip.js on a UDP socket of its own (as SIPp's uac is): what it hears, its port, bob's address-of-record at the lab. */
  async function rawCaller(): Promise<{ caller: dgram.Socket; answers: string[]; port: number; aor: string }> {
    const caller = dgram.createSocket('udp4');
    const answers: string[] = [];
    caller.on('message', (data) => answers.push(data.toString()));
    await new Promise<void>((resolve) => caller.bind(0, '127.0.0.1', () => resolve()));
    return { caller, answers, port: caller.address().port, aor: `sip:bob@127.0.0.1:${lab.ports.udp}` };
  }

  /** The offer the raw caller's INVITE carries. */
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';

  it.each([
    ['udp', 'tcp'],
    ['udp', 'ws'],
    ['tcp', 'ws'],
    ['ws', 'udp'],
  ] as const)('registers and calls %s → %s, then hangs up', async (from, to) => {
    const incoming: SipCall[] = [];
    const alice = await identity('alice', from);
    const bob = await identity('bob', to, { incoming: (c) => { incoming.push(c); void c.answer(); } });
    expect(await alice.register()).toBe(200);
    expect(await bob.register()).toBe(200);
    expect(lab.bindings().map((b) => `${b.user}/${b.hop.transport}`).sort()).toEqual([`alice/${from}`, `bob/${to}`].sort());

    const call = alice.createCall(`sip:bob@127.0.0.1:${lab.ports[from]}`);
    expect(await call.invite()).toBe(200);
    expect(call.state).toBe('established');
    expect(incoming).toHaveLength(1);
    await call.hangup();
    await Promise.all([call.whenEnded(), incoming[0]!.whenEnded()]);
    expect(call.endedBy).toBe('local');
    expect(incoming[0]!.endedBy).toBe('remote');
  });

  it('answers 404 for an unknown user and 480 for a known but unregistered one', async () => {
    const alice = await identity('alice', 'udp');
    await alice.register();
    const unknown = alice.createCall(`sip:nobody@127.0.0.1:${lab.ports.udp}`);
    expect(await unknown.invite()).toBe(404);
    const offline = alice.createCall(`sip:carol@127.0.0.1:${lab.ports.udp}`);
    expect(await offline.invite()).toBe(480);
  });

  it('relays a reject with 486 and a CANCEL before answer (487)', async () => {
    const alice = await identity('alice', 'udp');
    let mode: 'reject' | 'ring' = 'reject';
    const incoming: SipCall[] = [];
    const bob = await identity('bob', 'tcp', {
      incoming: (c) => {
        incoming.push(c);
        if (mode === 'reject') void c.reject(486);
        else void c.ring();
      },
    });
    await Promise.all([alice.register(), bob.register()]);
    const busy = alice.createCall(`sip:bob@127.0.0.1:${lab.ports.udp}`);
    expect(await busy.invite()).toBe(486);

    mode = 'ring';
    const cancelled = alice.createCall(`sip:bob@127.0.0.1:${lab.ports.udp}`);
    const result = cancelled.invite();
    await waitFor(() => cancelled.state === 'ringing');
    await cancelled.hangup();
    expect(await result).toBe(487);
    await incoming[1]!.whenEnded();
    expect(incoming[1]!.endedBy).toBe('remote');
    expect(incoming[1]!.finalStatus).toBe(487);
  });

  it('holds and resumes with re-INVITEs through the proxy', async () => {
    const trace: SipTapEntry[] = [];
    const alice = await identity('alice', 'udp', { tap: (e) => trace.push(e) });
    const bob = await identity('bob', 'ws', { incoming: (c) => void c.answer() });
    await Promise.all([alice.register(), bob.register()]);
    const call = alice.createCall(`sip:bob@127.0.0.1:${lab.ports.udp}`);
    await call.invite();
    expect(await call.hold(true)).toBe(200);
    expect(call.localHold).toBe(true);
    expect(await call.hold(false)).toBe(200);
    expect(call.localHold).toBe(false);
    const offers = trace.filter((e) => e.dir === 'out' && e.raw.startsWith('INVITE')).map((e) => /a=(sendrecv|sendonly)/.exec(e.raw)?.[1]);
    expect(offers).toEqual(['sendrecv', 'sendonly', 'sendrecv']);
    await call.hangup();
  });

  it('forwards an ACK for a 2xx sent to the address-of-record without a Route (SIPp\'s uac) to the contact, as it does the BYE', async () => {
    const trace: SipTapEntry[] = [];
    const incoming: SipCall[] = [];
    const bob = await identity('bob', 'udp', { tap: (e) => trace.push(e), incoming: (c) => { incoming.push(c); void c.answer(); } });
    await bob.register();
    // A UA that ignores Record-Route, as SIPp's built-in uac does: ACK and BYE go to the INVITE's Request-URI, no Route.
    const { caller, answers, port, aor } = await rawCaller();
    const request = (method: string, cseq: number, toTag: string, body = ''): string =>
      [
        `${method} ${aor} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-uac-${method}-${cseq}`,
        'Max-Forwards: 70',
        `From: <sip:sipp@127.0.0.1:${port}>;tag=uac1`,
        `To: <${aor}>${toTag}`,
        'Call-ID: ack-to-aor@127.0.0.1',
        `CSeq: ${cseq} ${method}`,
        `Contact: <sip:sipp@127.0.0.1:${port}>`,
        ...(body ? ['Content-Type: application/sdp'] : []),
        `Content-Length: ${body.length}`,
        '',
        body,
      ].join('\r\n');
    try {
      caller.send(request('INVITE', 1, '', sdp), lab.ports.udp!, '127.0.0.1');
      await waitFor(() => answers.some((a) => a.startsWith('SIP/2.0 200')));
      const toTag = /^To: .*(;tag=[^;\r]+)/m.exec(answers.find((a) => a.startsWith('SIP/2.0 200'))!)![1]!;
      caller.send(request('ACK', 1, toTag), lab.ports.udp!, '127.0.0.1');
      await waitFor(() => trace.some((e) => e.dir === 'in' && e.raw.startsWith('ACK ')));
      const ack = trace.find((e) => e.dir === 'in' && e.raw.startsWith('ACK '))!.raw;
      expect(ack.split('\r\n')[0]).toBe(`ACK ${bob.contactUri} SIP/2.0`); // retargeted to the registered contact (§16.5)
      expect(lab.snapshot().counters.dropped.ACK_NOWHERE).toBeUndefined();
      caller.send(request('BYE', 2, toTag), lab.ports.udp!, '127.0.0.1');
      await waitFor(() => answers.some((a) => a.startsWith('SIP/2.0 200') && /CSeq: 2 BYE/.test(a)));
      await incoming[0]!.whenEnded();
      expect(incoming[0]!.endedBy).toBe('remote');
    } finally {
      caller.close();
    }
  });

  it('absorbs an INVITE retransmitted after its 2xx (RFC 6026 §7.1, "Accepted") instead of forwarding it as a new request', async () => {
    // Under load a caller's Timer A can fire as the 2xx is on its way. Before, the proxy's transaction ended with the
    // 2xx, so the retransmission went to the callee on a new branch, which answered 482 (a merged request, RFC 3261
    // §8.2.2.2), and the 482 reached the caller: a call counted failed in a load at 300 calls/s.
    const trace: SipTapEntry[] = [];
    const bob = await identity('bob', 'udp', { tap: (e) => trace.push(e), incoming: (c) => void c.answer() });
    await bob.register();
    const { caller, answers, port, aor } = await rawCaller();
    const invite = [
      `INVITE ${aor} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-late-retransmission`,
      'Max-Forwards: 70',
      `From: <sip:sipp@127.0.0.1:${port}>;tag=uac2`,
      `To: <${aor}>`,
      'Call-ID: late-retransmission@127.0.0.1',
      'CSeq: 1 INVITE',
      `Contact: <sip:sipp@127.0.0.1:${port}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${sdp.length}`,
      '',
      sdp,
    ].join('\r\n');
    const invitesAtBob = (): number => trace.filter((e) => e.dir === 'in' && e.raw.startsWith('INVITE ')).length;
    try {
      caller.send(invite, lab.ports.udp!, '127.0.0.1');
      await waitFor(() => answers.some((a) => a.startsWith('SIP/2.0 200')));
      caller.send(invite, lab.ports.udp!, '127.0.0.1'); // the same INVITE, the same branch
      // an OPTIONS sent after it is answered after whatever the proxy did with it (one socket each way, loopback)
      caller.send(invite.replace(/INVITE/g, 'OPTIONS').replace('late-retransmission@', 'after-late@').replace('z9hG4bK-late-retransmission', 'z9hG4bK-after-late').replace(/Content-Type[^]*$/, 'Content-Length: 0\r\n\r\n'), lab.ports.udp!, '127.0.0.1');
      await waitFor(() => answers.some((a) => /CSeq: 1 OPTIONS/.test(a)));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(invitesAtBob()).toBe(1);
      expect(answers.filter((a) => /^SIP\/2\.0 [3-6]\d\d/.test(a) && /CSeq: 1 INVITE/.test(a))).toEqual([]);
    } finally {
      caller.close();
    }
  });

  it('requires digest authentication when asked to', async () => {
    await lab.stop();
    lab = await SipLabServer.start({ users: { alice: { password: 'a-secret' } }, auth: true, timers: fastTimers });
    const wrong = await identity('alice', 'udp', { password: 'nope' });
    await expect(wrong.register()).rejects.toMatchObject({ code: 'REGISTER_FAILED' });
    const right = await identity('alice', 'tcp', { password: 'a-secret' });
    expect(await right.register()).toBe(200);
  });

  it('unregisters with Expires: 0 and the binding is gone', async () => {
    const trace: SipTapEntry[] = [];
    const alice = await identity('alice', 'udp', { tap: (e) => trace.push(e) });
    await alice.register();
    expect(lab.bindings()).toHaveLength(1);
    await alice.unregister();
    expect(lab.bindings()).toHaveLength(0);
    const registers = trace.filter((e) => e.dir === 'out' && e.raw.startsWith('REGISTER'));
    expect(registers).toHaveLength(2);
    expect(registers[1]!.raw).toMatch(/expires=0|Expires: 0/i);
    expect(trace.every((e) => e.local === `127.0.0.1:${alice.local.port}`)).toBe(true);
  });

  it('answers garbage with 400 or drops and counts it, and keeps serving', async () => {
    const socket = dgram.createSocket('udp4');
    const replies: string[] = [];
    socket.on('message', (data) => replies.push(data.toString()));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const send = (text: string | Buffer): Promise<void> => new Promise((resolve) => socket.send(text, lab.ports.udp!, '127.0.0.1', () => resolve()));
    await send(Buffer.from([0, 1, 2, 3, 255]));
    await send('INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n');
    await send(`OPTIONS sip:127.0.0.1 SIP/2.0\r\n${'X: y\r\n'.repeat(400)}\r\n`);
    await waitFor(() => replies.length >= 1);
    expect(replies[0]).toMatch(/^SIP\/2.0 400 /);
    expect(lab.snapshot().rejected).toMatchObject({ BAD_HEADER: 1, BAD_CSEQ: 1, TOO_MANY_HEADERS: 1 });
    // A 2xx with the proxy's Via on top travels on statelessly (RFC 3261 §16.7 step 10) to the next Via: one naming a
    // host name the lab cannot resolve (it does no DNS) is dropped and counted; it used to throw out of the proxy.
    await send(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:${lab.ports.udp};branch=z9hG4bK-gone\r\nVia: SIP/2.0/UDP gone.example.net:9;branch=z9hG4bK-x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bob@127.0.0.1>;tag=2\r\nCall-ID: y\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`);
    await waitFor(() => lab.snapshot().counters.dropped.UNROUTABLE_VIA === 1);
    socket.close();
    const alice = await identity('alice', 'udp');
    expect(await alice.register()).toBe(200);
  });
});

describe('SipLabServer under a flood of transactions', () => {
  it('refuses new requests statelessly with 503 and Retry-After past maxTransactions; requests that end calls pass a tenth further', async () => {
    const lab = await SipLabServer.start({ udp: 0, maxTransactions: 3 });
    const socket = dgram.createSocket('udp4');
    try {
      const replies: string[] = [];
      socket.on('message', (data) => replies.push(data.toString()));
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      const port = socket.address().port;
      const request = (method: string, n: number, toTag = ''): string =>
        `${method} sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-flood-${n}\r\nMax-Forwards: 70\r\n` +
        `From: <sip:eve@127.0.0.1>;tag=e${n}\r\nTo: <sip:bob@127.0.0.1>${toTag}\r\nCall-ID: flood-${n}\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`;
      const send = async (text: string): Promise<string> => {
        const before = replies.length;
        socket.send(text, lab.ports.udp!, '127.0.0.1');
        await waitFor(() => replies.length > before);
        return replies.at(-1)!;
      };
      // Each OPTIONS leaves a completed transaction behind (Timer J, 64·T1 over UDP).
      for (let n = 0; n < 3; n++) expect(await send(request('OPTIONS', n))).toMatch(/^SIP\/2.0 (200|480) /);
      const refused = await send(request('OPTIONS', 3));
      expect(refused).toMatch(/^SIP\/2.0 503 Service Unavailable \(overloaded\)\r\n/);
      expect(refused).toMatch(/^Retry-After: 5\r$/m);
      expect(lab.snapshot().transactions).toEqual({ server: 3, client: 0 }); // refusing held nothing
      // A BYE (it has a To tag) still gets through, up to a tenth more; then it is refused too.
      expect(await send(request('BYE', 4, ';tag=b4'))).not.toMatch(/^SIP\/2.0 503 /);
      expect(await send(request('BYE', 5, ';tag=b5'))).toMatch(/^SIP\/2.0 503 /);
      expect(lab.snapshot().counters.overloaded).toBe(2);
    } finally {
      socket.close();
      await lab.stop();
    }
  });
});

describe('SipLabServer routing where it cannot reach', () => {
  it('answers 404 for a host that is neither an address nor a peer, instead of handing the name to its socket, and for an address a lab on loopback cannot reach; refuses Proxy-Require with 420', async () => {
    const lab = await SipLabServer.start({ udp: 0 });
    const socket = dgram.createSocket('udp4');
    try {
      const replies: string[] = [];
      socket.on('message', (data) => replies.push(data.toString()));
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      const port = socket.address().port;
      const send = async (uri: string, n: number, extra = ''): Promise<string> => {
        const before = replies.length;
        socket.send(
          `OPTIONS ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-route-${n}\r\nMax-Forwards: 70\r\n${extra}` +
            `From: <sip:eve@127.0.0.1>;tag=r${n}\r\nTo: <${uri}>\r\nCall-ID: route-${n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
          lab.ports.udp!,
          '127.0.0.1',
        );
        await waitFor(() => replies.length > before);
        return replies.at(-1)!;
      };
      expect(await send('sip:carol@nowhere.example.com', 1)).toMatch(/^SIP\/2.0 404 Not Found \(no route to nowhere.example.com\)\r\n/);
      expect(await send('tel:+15551234', 2)).toMatch(/^SIP\/2.0 404 /);
      // a lab on loopback cannot send anywhere else (Linux: EINVAL): a typo's address gets 404 at once, not a timeout
      expect(await send('sip:carol@10.1.2.3', 4)).toMatch(/^SIP\/2.0 404 Not Found \(no route to 10.1.2.3\)\r\n/);
      expect(await send('sip:carol@[2001:db8::1]:5060', 5)).toMatch(/^SIP\/2.0 404 Not Found \(no route to \(2001:db8::1\)\)\r\n/); // a grammatical phrase (create-response.ts)
      expect(lab.snapshot().counters.forwarded).toBe(0);
      const refused = await send('sip:carol@nowhere.example.com', 3, 'Proxy-Require: foo, bar\r\n');
      expect(refused).toMatch(/^SIP\/2.0 420 Bad Extension\r\n/);
      expect(refused).toMatch(/^Unsupported: foo, bar\r$/m);
      // last (its answer, if any, comes late): loopback is reached, relayed (nothing answers there)
      void send('sip:carol@127.0.0.2:9', 6).catch(() => undefined);
      await waitFor(() => lab.snapshot().counters.forwarded === 1);
    } finally {
      socket.close();
      await lab.stop();
    }
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
