import { describe, expect, it } from 'vitest';
import { memoryLabStarter } from '../../test/support/memory-lab.js';
import { establishedCallScenario } from '../../test/support/lab-scenario-text.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { parseScenario } from './load-scenario.js';
import type { ScenarioReport } from './scenario-report.js';
import { runScenario } from './scenario-runner.js';

/** The start lines of the SIP messages an agent sent or received, in order. */
function startLines(report: ScenarioReport, agent: string, dir: 'in' | 'out'): string[] {
  return [...report.agents[agent]!.trace].filter((entry) => entry.dir === dir).map((entry) => entry.raw.slice(0, entry.raw.indexOf('\r\n')));
}

/** alice and bob in an established call c1, then `steps`, through the embedded lab in memory. */
function run(steps: string[], header: string[] = ['timeout: 30s']): Promise<ScenarioReport> {
  const network = new MemoryNetwork();
  const scenario = parseScenario(establishedCallScenario(steps, header));
  return runScenario(scenario, { startLab: memoryLabStarter(network), sockets: network, createSessionDescriptionHandlerFactory: () => staticSdhFactory(), timers: { t1: 100, t2: 400 } });
}

describe('a run that ends right after a hang-up', () => {
  it('lets the BYE already on the wire land before its teardown hangs up what is left: no second BYE, no 481', async () => {
    const report = await run(['hangup: { call: c1 }'], ['name: hang up as the last step', 'timeout: 30s']);
    expect(report.ok).toBe(true);
    // alice's BYE ended the call at bob's; bob, shut down afterwards, had nothing left to hang up
    expect(startLines(report, 'alice', 'out').filter((line) => line.startsWith('BYE '))).toHaveLength(1);
    expect(startLines(report, 'alice', 'in')).toContain('SIP/2.0 200 OK');
    expect(startLines(report, 'bob', 'in').filter((line) => line.startsWith('BYE '))).toHaveLength(1);
    expect(startLines(report, 'bob', 'out').filter((line) => line.startsWith('BYE '))).toEqual([]);
    for (const agent of ['alice', 'bob']) {
      expect([...startLines(report, agent, 'in'), ...startLines(report, agent, 'out')].filter((line) => line.includes(' 481 '))).toEqual([]);
    }
  }, 30_000);

  it('a second hang-up of the ended call fails naming the call as the scenario does (not the phone\'s leg id)', async () => {
    const report = await run(['hangup: { call: c1 }', 'wait: 200ms', 'hangup: { call: c1 }']);
    expect(report.steps.filter((s) => !s.ok).map((s) => s.reason)).toEqual(['call c1 has no active leg at alice (it ended)']);
  }, 30_000);

  it('hangs a call still up at the end up from its caller only: one BYE, answered 200, no crossed BYEs and no 481', async () => {
    const report = await run([], ['name: end with the call up', 'timeout: 30s']);
    expect(report.ok).toBe(true);
    expect(startLines(report, 'alice', 'out').filter((line) => line.startsWith('BYE '))).toHaveLength(1);
    expect(startLines(report, 'bob', 'out').filter((line) => line.startsWith('BYE '))).toEqual([]);
    expect(startLines(report, 'alice', 'in')).toContain('SIP/2.0 200 OK');
    for (const agent of ['alice', 'bob']) {
      expect([...startLines(report, agent, 'in'), ...startLines(report, agent, 'out')].filter((line) => line.includes(' 481 '))).toEqual([]);
    }
  }, 30_000);
});
