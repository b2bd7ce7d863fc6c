import { describe, expect, it } from 'vitest';
import { parseScenario } from './load-scenario.js';
import { agentCallLimit } from './scenario-agents.js';

const scenario = (steps: string) => parseScenario(`
lab: embedded
agents:
  alice: { user: alice, transport: udp }
  bob:   { user: bob, transport: udp, answer: auto }
steps:
  - register: alice
${steps}`);

describe('the calls a scenario agent takes at once', () => {
  it('is the phone\'s usual 128 without loads, or with small ones', () => {
    expect(agentCallLimit(scenario(''))).toBe(128);
    expect(agentCallLimit(scenario('  - load: { from: alice, to: bob, id: l1, calls: 10, rate: 5, parallel: 100 }'))).toBe(128);
  });

  it('grows to the largest `parallel` of the loads, so a load of 5000 at once is not refused at the 129th (TOO_MANY_CALLS, 486)', () => {
    const big = scenario('  - load: { from: alice, to: bob, id: l1, calls: 10, rate: 5, parallel: 300 }\n  - load: { from: alice, to: bob, id: l2, duration: 30s, rate: 2000, parallel: 5000 }');
    expect(agentCallLimit(big)).toBe(5000);
  });
});
