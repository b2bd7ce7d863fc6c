import { describe, expect, it } from 'vitest';
import type { LabHandle } from './lab-handle.js';
import { memoryLabStarter } from '../../test/support/memory-lab.js';
import { labPairScenario } from '../../test/support/lab-scenario-text.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import { Phone } from '../phone/phone.js';
import { parseScenario } from './load-scenario.js';
import type { ScenarioReport } from './scenario-report.js';
import { runScenario } from './scenario-runner.js';

const timers = { t1: 100, t2: 400 };

/** Run alice-and-bob `steps`; `meanwhile` gets the lab once it is up, to act from outside the scenario. */
async function run(steps: string[], meanwhile?: (lab: LabHandle, network: MemoryNetwork) => Promise<void>): Promise<ScenarioReport> {
  const network = new MemoryNetwork();
  const start = memoryLabStarter(network, timers);
  let outside: Promise<void> | undefined;
  const report = await runScenario(parseScenario(labPairScenario(steps, ['timeout: 30s'])), {
    startLab: async (request) => {
      const lab = await start(request);
      outside = meanwhile?.(lab, network);
      return lab;
    },
    sockets: network,
    createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
    timers,
  });
  await outside;
  return report;
}

const failures = (report: ScenarioReport): string[] => report.steps.filter((s) => !s.ok).map((s) => s.reason ?? '');

/** The outsider review: `count: 0` passed at once, though a call came within its `within`. */
describe('an incoming expectation with a count', () => {
  it('count 0 holds only over the whole of `within`: a call arriving in it fails the step', async () => {
    const report = await run(['expect: { agent: bob, incoming: { count: 0 }, within: 3s }'], async (lab, network) => {
      // a caller outside the scenario (a SIPp's stand-in) rings bob once he is registered
      await until(() => (lab.snapshot() as { sip: { bindings: Array<{ user: string }> } }).sip.bindings.some((b) => b.user === 'bob') || undefined, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const server = lab.servers.udp!;
      const mallory = new Phone({ accounts: [{ id: 'm', user: 'mallory', server, transport: 'udp' }], createSessionDescriptionHandlerFactory: () => staticSdhFactory(), sockets: network, timers });
      try {
        await mallory.call({ target: 'bob' });
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        await mallory.shutdown();
      }
    });
    expect(failures(report)).toEqual([expect.stringMatching(/^expected bob to have no call\(s\) within 3000ms; received mallory \(/)]);
  }, 30_000);

  it('count 0 with no call passes; a count already passed fails at once, with what arrived', async () => {
    const report = await run([
      'expect: { agent: bob, incoming: { count: 0 }, within: 300ms }',
      'call: { from: alice, to: bob, id: c1 }',
      'expect: { call: c1, state: established }',
      'hangup: { call: c1 }',
      'call: { from: alice, to: bob, id: c2 }',
      'expect: { call: c2, state: established }',
      'expect: { agent: bob, incoming: { from_user: alice, count: 1 }, within: 20s }',
    ]);
    expect(report.steps.map((s) => s.ok)).toEqual([true, true, true, true, true, true, true, true, false]);
    expect(failures(report)).toEqual([expect.stringMatching(/^expected bob to have 1 call\(s\) from alice, it has 2; received alice \(terminated 200\), alice \(established 200\)$/)]);
    expect(report.steps.at(-1)!.ms).toBeLessThan(20_000); // not waited out
  }, 30_000);
});
