import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { ScriptPeer, type SipRequestMessage } from '../../test/support/script-peer.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { SipIdentity } from './sip-identity.js';

/** RFC 3261 §10.2: one REGISTER at a time, and an unregister never lost behind a refresh still waiting for its answer. */
describe('unregistering while a REGISTER waits for its answer', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('waits for that answer, then sends the REGISTER with expires 0: no binding is left behind', async () => {
    const registrar = await ScriptPeer.open(network);
    registrar.answersRegister = false;
    cleanup.push(() => registrar.socket.close());
    const identity = await SipIdentity.create({
      aor: { user: 'alice', domain: '127.0.0.1' },
      transport: 'udp',
      local: { address: '127.0.0.1', port: 0 },
      server: registrar.endpoint,
      sessionDescriptionHandlerFactory: staticSdhFactory(),
      sockets: network,
      timers: { t1: 500, t2: 4000 }, // Timer F (64·T1) outlasts a loaded machine's delays
    });
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
});
