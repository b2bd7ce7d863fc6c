import { afterEach, describe, expect, it } from 'vitest';
import type { SessionDescriptionHandlerFactory } from 'sip.js';
import { Lab } from '../../lab/lab.js';
import { memoryLabStarter } from '../../test/support/memory-lab.js';
import type { AccountConfig, PhoneEvent } from '../api/phone-types.js';
import { checkAccountConfig } from './account-config-check.js';
import { parseScenario } from '../scenario/load-scenario.js';
import { runScenario } from '../scenario/scenario-runner.js';
import { defaultMediaProvider } from './default-media.js';
import type { MediaFactoryProvider } from './media-factory.js';
import { Phone } from './phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';

/**
 * Bob, a callee whose SDP names a port it does not listen on (as a phone behind a NAT no server fixed): its RTP comes from
 * its real port. Port 9 (discard) on loopback: what is sent there is lost.
 */
const misleadingMedia: MediaFactoryProvider = (context) => {
  const factory = defaultMediaProvider(context);
  if (context.accountId !== 'bob') return factory;
  return ((session, options) => {
    const handler = factory(session, options);
    const getDescription = handler.getDescription.bind(handler);
    handler.getDescription = async (...args) => {
      const description = await getDescription(...args);
      return { ...description, body: description.body.replace(/^m=audio \d+/m, 'm=audio 9') };
    };
    return handler;
  }) as SessionDescriptionHandlerFactory;
};

/** SIP through the in-memory network; the RTP is real (loopback). RFC 4961 symmetric RTP, per account (issue 21). */
describe('an account\'s RTP latching setting', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  for (const latching of [undefined, 'on', 'off'] as const) {
    it(`latching ${latching ?? 'unset (the default: on)'}: RTP from another port than the peer's SDP names is ${latching === 'off' ? 'refused and never followed' : 'followed'}`, async () => {
      const lab = await Lab.start({ timers: { t1: 100, t2: 400 }, sockets: network });
      cleanup.push(() => lab.stop());
      const account = (user: string, extra: Partial<AccountConfig> = {}): AccountConfig => ({ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, ...extra });
      const alice = new Phone({ accounts: [account('alice', latching ? { latching } : {})], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers: { t1: 100, t2: 400 }, sockets: network });
      const bob = new Phone({ accounts: [account('bob', { answer: { kind: 'auto' } })], createSessionDescriptionHandlerFactory: misleadingMedia, timers: { t1: 100, t2: 400 }, sockets: network });
      cleanup.push(() => alice.shutdown(), () => bob.shutdown());
      const bobEvents: PhoneEvent[] = [];
      bob.subscribe((e) => bobEvents.push(e));
      await alice.register();
      await bob.register();
      const call = await alice.call({ target: 'bob' });
      const bobLeg = (await until(() => bobEvents.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming'))).call.id;
      const media = await until(() => alice.mediaOf(call.id));
      const bobMedia = await until(() => bob.mediaOf(bobLeg));
      if (latching === 'off') {
        await until(() => (media.stats().rejected.UNEXPECTED_SOURCE ?? 0) >= 10);
        expect(media.stats().latchedTo).toBeUndefined();
        expect(bobMedia.stats().packetsReceived).toBe(0);
      } else {
        await until(() => bobMedia.stats().packetsReceived >= 10);
        expect(media.stats().latchedTo).toBe(`127.0.0.1:${bobMedia.localRtpPort}`);
      }
    });
  }

  it('the scenario key latching: off reaches the agent\'s account (and on, the default, latches)', async () => {
    const received: Record<string, number> = {};
    for (const latching of ['on', 'off'] as const) {
      const network = new MemoryNetwork();
      const scenario = parseScenario(
        [
          'name: latching',
          'timeout: 30s',
          'lab: embedded',
          'agents:',
          `  alice: { user: alice, latching: ${latching} }`,
          '  bob: { user: bob, answer: auto }',
          'steps:',
          '  - register: alice',
          '  - register: bob',
          '  - call: { from: alice, to: bob, id: c1 }',
          '  - expect: { call: c1, state: established }',
          '  - wait: 600ms',
          '  - hangup: { call: c1 }',
          '  - expect: { call: c1, state: terminated }',
          '',
        ].join('\n'),
      );
      // bob's SDP names a port he does not listen on: only alice's latching lets audio through
      const report = await runScenario(scenario, {
        startLab: memoryLabStarter(network),
        sockets: network,
        createSessionDescriptionHandlerFactory: misleadingMedia,
        timers: { t1: 100, t2: 400 },
      });
      expect(report.steps.filter((step) => !step.ok)).toEqual([]);
      received[latching] = report.calls[0]!.legs.caller.media!.packetsReceived;
    }
    expect(received.on).toBeGreaterThan(10);
    expect(received.off).toBe(0);
  });

  it('refuses a latching value other than on or off', () => {
    const base = { id: 'a', user: 'a', server: 'sip:127.0.0.1:5060', transport: 'udp' };
    expect(checkAccountConfig({ ...base, latching: 'off' }).latching).toBe('off');
    expect(() => checkAccountConfig({ ...base, latching: 'auto' })).toThrow(/latching/);
  });
});
