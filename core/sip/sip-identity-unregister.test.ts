import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { pcmuSdp, ScriptPeer, type SipRequestMessage } from '../../test/support/script-peer.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import type { SipCall } from './sip-call.js';
import { SipIdentity } from './sip-identity.js';
import type { SipTapEntry } from './transport/message-tap.js';

/** RFC 3261 §10.2: one REGISTER at a time, and an unregister never lost behind a refresh still waiting for its answer. */
describe('unregistering while a REGISTER waits for its answer', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** An identity of `user` whose server is `server`, on the in-memory network, with the options a test adds. */
  function identityAt(server: ScriptPeer, t1: number, options: Partial<Parameters<typeof SipIdentity.create>[0]> = {}, user = 'alice'): Promise<SipIdentity> {
    return SipIdentity.create({
      aor: { user, domain: '127.0.0.1' },
      transport: 'udp',
      local: { address: '127.0.0.1', port: 0 },
      server: server.endpoint,
      sessionDescriptionHandlerFactory: staticSdhFactory(),
      sockets: network,
      timers: { t1, t2: t1 * 8 },
      ...options,
    });
  }

  it('waits for that answer, then sends the REGISTER with expires 0: no binding is left behind', async () => {
    const registrar = await ScriptPeer.open(network);
    registrar.answersRegister = false;
    cleanup.push(() => registrar.socket.close());
    const identity = await identityAt(registrar, 500); // Timer F (64·T1) outlasts a loaded machine's delays
    cleanup.push(() => identity.dispose({ serverGone: true }));
    const register = registrar.request('REGISTER');

    const registered = identity.register();
    const first = (await registrar.take(register)) as SipRequestMessage;
    // the user unregisters while the REGISTER has no answer yet (a refresh in flight looks the same)
    const unregistered = identity.unregister();
    await registrar.reply(first, 200, 'OK', [`Contact: ${first.get('contact')};expires=60`]);
    expect(await registered).toBe(200);
    // the next REGISTER, not a retransmission of the first (RFC 3261 §10.2.4: a new request has a higher CSeq)
    const cseq = (m: SipRequestMessage) => Number.parseInt(m.get('cseq') ?? '', 10);
    const removal = await registrar.take((m): m is SipRequestMessage => register(m) && cseq(m) > cseq(first));
    expect(`${removal.get('expires') ?? ''} ${removal.get('contact') ?? ''}`).toMatch(/^0 |expires=0/);
    await registrar.reply(removal, 200, 'OK');
    expect(await unregistered).toBe(200);
  });

  it('a REGISTER still unanswered when the identity goes fails as DISPOSED, saying whether it was shut down or its server left', async () => {
    const registrar = await ScriptPeer.open(network);
    registrar.answersRegister = false;
    cleanup.push(() => registrar.socket.close());
    for (const [options, reason] of [
      [{}, /shut down/],
      [{ serverGone: true }, /left this server/],
    ] as const) {
      const identity = await identityAt(registrar, 500);
      const registers = (): number => registrar.received.filter((m) => m.kind === 'request' && m.method === 'REGISTER').length;
      const heard = registers();
      const registered = identity.register().then(
        () => 'registered',
        (error: { code?: string; message: string }) => `${error.code}: ${error.message}`,
      );
      await until(() => registers() > heard);
      await identity.dispose(options);
      expect(await registered).toMatch(/^DISPOSED: REGISTER abandoned/);
      expect(await registered).toMatch(reason);
    }
  });

  it('a registrar gone silent holds a shutdown for the grace only (8·T1), not for Timer F (64·T1), and the REGISTER expires 0 still goes', async () => {
    const registrar = await ScriptPeer.open(network);
    cleanup.push(() => registrar.socket.close());
    const tapped: SipTapEntry[] = [];
    const identity = await identityAt(registrar, 100, { tap: (entry) => tapped.push(entry) });
    expect(await identity.register()).toBe(200);
    registrar.answersRegister = false; // from now on it hears, and says nothing
    const unregistrations = (): number => tapped.filter((e) => e.dir === 'out' && e.raw.startsWith('REGISTER ') && /expires[:=] *0\b/i.test(e.raw)).length;
    const started = Date.now();
    await identity.dispose();
    const took = Date.now() - started;
    expect(unregistrations()).toBeGreaterThan(0);
    // sip.js's Timer F runs on its own T1 of 500 ms: waiting it out took 32 s here before the grace
    expect(took).toBeLessThan(10_000);
  }, 60_000);

  it('a signal that has already fired cuts only the wait: the REGISTER expires 0 is sent all the same', async () => {
    const registrar = await ScriptPeer.open(network);
    cleanup.push(() => registrar.socket.close());
    const identity = await identityAt(registrar, 100);
    cleanup.push(() => identity.dispose({ serverGone: true }));
    expect(await identity.register()).toBe(200);
    expect(identity.mayHoldBinding).toBe(true);
    registrar.answersRegister = false;
    expect(await identity.unregister({ signal: AbortSignal.abort() })).toBeUndefined();
    const removal = (await registrar.take(registrar.request('REGISTER'))) as SipRequestMessage;
    expect(`${removal.get('expires') ?? ''} ${removal.get('contact') ?? ''}`).toMatch(/^0 |expires=0/);
  });

  /** An identity with a call it answered and the peer acknowledged: the peer answers REGISTERs, nothing else by itself. */
  async function establishedCall(): Promise<{ peer: ScriptPeer; identity: SipIdentity; call: SipCall; tapped: SipTapEntry[]; disposals: number[] }> {
    const peer = await ScriptPeer.open(network);
    cleanup.push(() => peer.socket.close());
    const incoming: SipCall[] = [];
    const tapped: SipTapEntry[] = [];
    const disposals: number[] = [];
    const identity = await identityAt(peer, 500, { onIncomingCall: (call) => incoming.push(call), tap: (entry) => tapped.push(entry), onDisposed: () => disposals.push(Date.now()) }, 'bob');
    cleanup.push(() => identity.dispose({ serverGone: true }));
    const sdp = pcmuSdp(40000);
    const headers = (method: string, cseq: number, to: string): string[] => [
      `${method} sip:bob@127.0.0.1:${identity.local.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.endpoint.port};branch=z9hG4bK-bye-wait-${method}`,
      'Max-Forwards: 70',
      'From: <sip:carol@127.0.0.1>;tag=carol',
      `To: ${to}`,
      'Call-ID: bye-wait-1',
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:carol@127.0.0.1:${peer.endpoint.port}>`,
    ];
    await peer.send([...headers('INVITE', 1, '<sip:bob@127.0.0.1>'), 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), identity.local);
    const call = await until(() => incoming[0]);
    await call.answer();
    const ok = await peer.take(peer.response(200));
    await peer.send([...headers('ACK', 1, ok.get('to')!), 'Content-Length: 0', '', ''].join('\r\n'), identity.local);
    await until(() => (call.state === 'established' ? true : undefined));
    return { peer, identity, call, tapped, disposals };
  }

  const byeAnswerIn = (tapped: SipTapEntry[]): boolean => tapped.some((e) => e.dir === 'in' && e.raw.startsWith('SIP/2.0 200') && /\r\nCSeq: *\d+ BYE/i.test(e.raw));
  const slowPeer = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 200)); // a busy proxy between

  it('an identity going away after its BYE waits for that BYE\'s answer (within its grace), so the answer still reaches it', async () => {
    const { peer, identity, call, tapped } = await establishedCall();
    await call.hangup();
    const bye = (await peer.take(peer.request('BYE'))) as SipRequestMessage;
    expect(call.state).toBe('terminated'); // ended as the BYE left (RFC 3261 §15)
    const gone = identity.dispose();
    await slowPeer();
    await peer.reply(bye, 200, 'OK');
    await gone;
    expect(byeAnswerIn(tapped)).toBe(true);
  });

  it('an identity going away during a call hangs it up and waits for that BYE\'s answer too; a second dispose meanwhile waits for the first', async () => {
    const { peer, identity, tapped, disposals } = await establishedCall();
    expect(await identity.register()).toBe(200);
    const gone = identity.dispose();
    const again = identity.dispose();
    const bye = (await peer.take(peer.request('BYE'))) as SipRequestMessage;
    await slowPeer();
    await peer.reply(bye, 200, 'OK');
    await Promise.all([gone, again]);
    expect(byeAnswerIn(tapped)).toBe(true);
    expect(disposals).toHaveLength(1); // stopped once, its lease (say) given back once
    const unregistrations = tapped.filter((e) => e.dir === 'out' && e.raw.startsWith('REGISTER ') && /expires[:=] *0\b/i.test(e.raw));
    expect(unregistrations).toHaveLength(1);
  });
});
