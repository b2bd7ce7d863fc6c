import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlainRtpMediaProvider } from '../../core/media/plain-rtp-sdh.js';
import { parseScenario } from '../../core/scenario/load-scenario.js';
import { runScenario } from '../../core/scenario/scenario-runner.js';
import { KamailioServer } from '../support/kamailio.js';
import { makeTestPki, type TestPki } from '../support/test-certificates.js';
import { missingRequirements } from '../support/tools.js';

const skip = missingRequirements(['kamailio', 'openssl']);

/** Issue 18 "Real peers": Kamailio over TLS (kamailio-tls-modules), the project's phones on both sides. */
describe.skipIf(skip)('phones through Kamailio over TLS and secure WebSocket, with SRTP', () => {
  let pki: TestPki;
  let kamailio: KamailioServer;
  beforeAll(async () => {
    pki = await makeTestPki();
    const certificate = await pki.issue(['sip.test', '127.0.0.1']);
    kamailio = await KamailioServer.start({ tls: { certFile: certificate.certFile, keyFile: certificate.keyFile } });
  }, 30_000);
  afterAll(async () => {
    await kamailio?.stop();
    await pki?.remove();
  });

  it('register, call both ways, SRTP both ways, DTMF both ways, hold and resume, BYE; an agent without the test CA cannot register', async () => {
    const { tls, wss } = kamailio.servers;
    const scenario = `
timeout: 1m
server: { tls: "${tls}", wss: "${wss}" }
agents:
  alice: { user: alice, transport: tls, tls: { ca_file: "${pki.caFile}" }, answer: auto }
  bob:   { user: bob, transport: wss, tls: { ca_file: "${pki.caFile}" }, answer: auto }
  eve:   { user: eve, transport: tls }
steps:
  - register: alice
  - register: bob
  - call: { from: alice, to: bob, id: c1 }
  - expect: { call: c1, state: established, within: 10s }
  - expect: { call: c1, rtp: { encrypted: true, min_received: 25 }, within: 10s }
  - expect: { call: c1, agent: bob, rtp: { encrypted: true, min_received: 25 }, within: 10s }
  - dtmf: { call: c1, digits: "159" }
  - expect: { call: c1, agent: bob, dtmf_received: "159", within: 10s }
  - dtmf: { call: c1, digits: "#7", by: bob }
  - expect: { call: c1, dtmf_received: "#7", within: 10s }
  - hold: { call: c1 }
  - resume: { call: c1 }
  - expect: { call: c1, rtp: { encrypted: true, flowing: true }, within: 10s }
  - hangup: { call: c1 }
  - expect: { call: c1, state: terminated, status: 200, within: 10s }
  - call: { from: bob, to: alice, id: c2 }
  - expect: { call: c2, state: established, within: 10s }
  - expect: { call: c2, agent: alice, rtp: { encrypted: true, min_received: 25 }, within: 10s }
  - hangup: { call: c2, by: alice }
  - expect: { call: c2, state: terminated, within: 10s }
  - register: eve
`;
    const report = await runScenario(parseScenario(scenario), { createSessionDescriptionHandlerFactory: createPlainRtpMediaProvider() });
    const failed = report.steps.filter((s) => !s.ok);
    expect(failed.map((s) => `${s.step}: ${s.reason}`)).toEqual([expect.stringMatching(/^register: "eve": .*is not trusted/)]);
    const c1 = report.calls.find((c) => c.id === 'c1')!;
    expect(c1.legs.caller.signaling).toMatchObject({ transport: 'tls', tls: { version: expect.stringMatching(/^TLSv1\.[23]$/) } });
    expect(c1.legs.callee?.signaling?.transport).toBe('wss');
    expect(c1.legs.caller.media?.encryption).toEqual({ kind: 'srtp', suite: 'AES_CM_128_HMAC_SHA1_80' });
    // every message of the agents crossed TLS: none went over a transport in the clear
    for (const agent of ['alice', 'bob'] as const) expect(new Set([...report.agents[agent]!.trace].map((e) => e.transport))).toEqual(new Set([agent === 'alice' ? 'tls' : 'wss']));
  }, 120_000);
});
