import { describe, expect, it } from 'vitest';
import { memoryLabStarter } from '../../test/support/memory-lab.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { defaultMediaProvider } from '../phone/default-media.js';
import { parseScenario } from './load-scenario.js';
import { runScenario } from './scenario-runner.js';
import type { ScenarioReport } from './scenario-report.js';

/** alice on one-time loopback addresses receives `steps`' calls from bob, through the embedded lab in memory. */
async function run(steps: string[], alice = '{ mode: temporary, source: loopback }'): Promise<ScenarioReport> {
  const network = new MemoryNetwork();
  const text = ['lab: embedded', 'timeout: 30s', 'agents:', `  alice: { user: alice, transport: udp, answer: auto, address: ${alice} }`, '  bob: { user: bob, transport: udp }', 'steps:', '  - register: alice', '  - register: bob', ...steps.map((s) => `  - ${s}`), ''].join('\n');
  return runScenario(parseScenario(text), { startLab: memoryLabStarter(network), sockets: network, createSessionDescriptionHandlerFactory: defaultMediaProvider, timers: { t1: 100, t2: 400 } });
}

const failures = (report: ScenarioReport): string[] => report.steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.reason ?? ''}`);

describe('expect: { agent, fresh_address: true } (seed 000 Fig. 29)', () => {
  it('waits after each received call until its replacement is registered, so back-to-back calls each ring on a new address', async () => {
    const steps: string[] = [];
    for (let i = 1; i <= 4; i++) {
      // no wait: the next call is placed the moment the new receiving address is registered
      steps.push(`call: { from: bob, to: alice, id: in${i} }`, `expect: { call: in${i}, state: established }`, `hangup: { call: in${i} }`, `expect: { call: in${i}, state: terminated, status: 200 }`, 'expect: { agent: alice, fresh_address: true }');
    }
    const report = await run(steps);
    expect(failures(report)).toEqual([]);
    const answeredOn = report.calls.map((c) => c.legs.callee!.localAddress);
    expect(answeredOn).toHaveLength(4);
    expect(new Set(answeredOn).size).toBe(4);
    const receiving = report.agents.alice!.addresses!.filter((a) => a.purpose === 'receiving').map((a) => a.address);
    expect(receiving.slice(0, 4)).toEqual(answeredOn);
    expect(receiving).toHaveLength(5); // the one registered after the last call, given back at the end
  });

  it('refuses an agent that is not on one-time addresses, and an expectation naming a call', async () => {
    const report = await run(['expect: { agent: alice, fresh_address: true }'], '{ mode: fixed }');
    expect(failures(report).join('\n')).toMatch(/alice is not on one-time addresses/);
    expect(() => parseScenario(['agents:', '  a: { user: a, server: "sip:127.0.0.1:5060" }', 'steps:', '  - expect: { call: c1, agent: a, fresh_address: true }', ''].join('\n'))).toThrow(/fresh_address is about an agent/);
  });
});
