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
  carol: { user: carol, transport: tls, media: { encryption: off } }
  eve:   { user: eve, transport: tls, tls: { fingerprint: "${'00:'.repeat(31)}00" } }
steps:
  - register: alice
  - register: bob
  - register: carol
  - call: { from: alice, to: bob, id: c1 }
  - expect: { call: c1, state: established, within: 5s }
  - expect: { call: c1, rtp: { encrypted: true }, within: 5s }
  - expect: { call: c1, agent: bob, rtp: { encrypted: true }, within: 5s }
  - hangup: { call: c1 }
  - call: { from: carol, to: alice, id: c2 }
  - expect: { call: c2, state: terminated, status: 488, within: 5s }
  - expect: { call: c1, state: terminated, status: 200, within: 5s }
  - register: eve
`;

describe('scenarios over TLS and WSS with the embedded lab (issue 18)', () => {
  it('tls and wss agents trust the lab they started and call in SRTP; plain media toward a required agent gets 488; a wrong pin cannot register', async () => {
    expect(() => parseScenario(scenario.replace('transport: tls, media: { encryption: off }', 'transport: udp, media: { encryption: required }'))).toThrow(/the SRTP keys would cross the network in the clear/);
    const report = await runScenario(parseScenario(scenario), { startLab: (request) => startLabForScenario(request), createSessionDescriptionHandlerFactory: createPlainRtpMediaProvider() });
    const failed = report.steps.filter((s) => !s.ok);
    expect(failed.map((s) => s.step)).toEqual(['register: "eve"']);
    expect(failed[0]!.reason).toMatch(/is not the pinned one/);
    expect(report.agents.alice!.transport).toBe('tls');
    expect([...report.agents.alice!.trace].every((e) => e.transport === 'tls')).toBe(true);
    expect([...report.agents.bob!.trace].every((e) => e.transport === 'wss')).toBe(true);
    const c1 = report.calls.find((c) => c.id === 'c1')!;
    expect(c1.legs.caller.media?.encryption).toEqual({ kind: 'srtp', suite: 'AES_CM_128_HMAC_SHA1_80' });
    expect(c1.legs.callee?.media?.encryption).toEqual({ kind: 'srtp', suite: 'AES_CM_128_HMAC_SHA1_80' });
    expect(c1.legs.caller.signaling).toMatchObject({ transport: 'tls', tls: { version: 'TLSv1.3' } });
    expect(c1.legs.callee?.signaling?.transport).toBe('wss');
    expect(c1.legs.caller.signaling?.tls?.peerFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  }, 60_000);
});
