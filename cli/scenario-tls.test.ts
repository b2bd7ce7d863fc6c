import { describe, expect, it } from 'vitest';
import { createPlainRtpMediaProvider } from '../core/media/plain-rtp-sdh.js';
import { parseScenario } from '../core/scenario/load-scenario.js';
import { runScenario } from '../core/scenario/scenario-runner.js';
import { startLabForScenario } from './scenario-lab.js';

const scenario = `
lab: { mode: embedded, tls: true }
agents:
  alice: { user: alice, transport: tls }
  bob:   { user: bob, transport: wss, answer: auto }
  eve:   { user: eve, transport: tls, tls: { fingerprint: "${'00:'.repeat(31)}00" } }
steps:
  - register: alice
  - register: bob
  - call: { from: alice, to: bob, id: c1 }
  - expect: { call: c1, state: established, within: 5s }
  - hangup: { call: c1 }
  - expect: { call: c1, state: terminated, status: 200, within: 5s }
  - register: eve
`;

describe('scenarios over TLS and WSS with the embedded lab (issue 18)', () => {
  it('tls and wss agents trust the lab they started; an agent pinning another certificate cannot register', async () => {
    const report = await runScenario(parseScenario(scenario), { startLab: (request) => startLabForScenario(request), createSessionDescriptionHandlerFactory: createPlainRtpMediaProvider() });
    const failed = report.steps.filter((s) => !s.ok);
    expect(failed.map((s) => s.step)).toEqual(['register: "eve"']);
    expect(failed[0]!.reason).toMatch(/is not the pinned one/);
    expect(report.agents.alice!.transport).toBe('tls');
    expect(report.agents.alice!.trace.every((e) => e.transport === 'tls')).toBe(true);
    expect(report.agents.bob!.trace.every((e) => e.transport === 'wss')).toBe(true);
  }, 60_000);
});
