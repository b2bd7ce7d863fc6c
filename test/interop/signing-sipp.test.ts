import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Child } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import { startSigningLab, type SigningSnapshot } from '../support/signing-lab.js';
import { startSipp } from '../support/sipp.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot, serverArgs, veilphone } from '../support/veilphone-cli.js';

const skip = missingRequirements(['sipp']);

/**
 * Issue 21 item 6: seed 002's signatures with a phone that is not ours. SIPp answers through the signing lab
 * (test/interop/sipp/uas-hangup.xml echoes the Record-Route set, signatures and all, in its 180 and 200, and hangs up
 * with a BYE that follows the route set it learnt), Veilphone calls it. Untampered, every signature SIPp carried back
 * verifies and the proxy rejects nothing; with each `--tamper` kind forging what SIPp sends, the proxy catches it
 * and the call fails.
 */
describe.skipIf(skip)('SIPp through the signing lab (seed 002)', () => {
  const children: Child[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.stop()));
  });

  async function run(tamper?: string): Promise<{ agent: Child; uas: Child; snapshot: SigningSnapshot }> {
    const lab = await startSigningLab(tamper ? ['--tamper', tamper] : []);
    children.push(lab.child);
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'uas-hangup.xml', localPort: uasPort, mediaPort: await freePort(), timeoutS: 20, extra: ['-rtp_echo'] });
    children.push(uas);
    const register = startSipp({ scenario: 'register.xml', remote: `127.0.0.1:${lab.udp}`, localPort: await freePort(), service: 'sipp', keys: { contact_port: String(uasPort), expires: '120' } });
    expect(await register.exitCode(20_000), register.stderr).toBe(0);
    const agent = veilphone(['run', path.join(projectRoot, 'test/interop/scenarios/call-sipp-hangs-up.yaml'), ...serverArgs(lab.servers)]);
    children.push(agent);
    await agent.exitCode(60_000);
    await uas.exitCode(30_000);
    return { agent, uas, snapshot: await lab.snapshot() };
  }

  it('an untampered call with SIPp as the callee: every signature verifies, zero failures, SIPp\'s BYE passes on its route-set signature', async () => {
    const { agent, uas, snapshot } = await run();
    expect(agent.process.exitCode, `${agent.stdout}\n${agent.stderr}`).toBe(0);
    expect(uas.process.exitCode, `SIPp: ${uas.stdout.slice(-1500)}\n${uas.stderr}`).toBe(0);
    const signing = snapshot.sip.signing;
    expect(signing.failures.total).toBe(0);
    expect(signing.signed['route-set-callee']).toBeGreaterThanOrEqual(1); // toward SIPp, in the INVITE
    expect(signing.verified.via).toBeGreaterThanOrEqual(2); // SIPp's 180 and 200
    expect(signing.verified['record-route']).toBeGreaterThanOrEqual(1); // the Record-Route SIPp echoed
    expect(signing.verified['route-set']).toBeGreaterThanOrEqual(2); // alice's ACK, SIPp's BYE
  });

  it('an untampered call with SIPp as the caller: its ACK and BYE follow the signed route set, zero failures', async () => {
    const lab = await startSigningLab();
    children.push(lab.child);
    const agent = veilphone(['run', path.join(projectRoot, 'test/interop/scenarios/answer-sipp.yaml'), ...serverArgs(lab.servers)]);
    children.push(agent);
    await agent.waitFor(/^ok\s+1 register/m);
    const uac = startSipp({ scenario: 'uac.xml', remote: `127.0.0.1:${lab.udp}`, localPort: await freePort(), service: 'bob', mediaPort: await freePort(), extra: ['-rtp_echo'] });
    children.push(uac);
    expect(await uac.exitCode(60_000), `SIPp: ${uac.stdout.slice(-1500)}\n${uac.stderr}`).toBe(0);
    expect(await agent.exitCode(60_000), `${agent.stdout}\n${agent.stderr}`).toBe(0);
    const signing = (await lab.snapshot()).sip.signing;
    expect(signing.failures.total).toBe(0);
    expect(signing.signed['route-set-caller']).toBeGreaterThanOrEqual(1); // toward SIPp, in the 200
    expect(signing.verified['route-set']).toBeGreaterThanOrEqual(2); // SIPp's ACK and BYE
  });

  it.each([
    ['via', 'via'],
    ['record_route', 'record-route'],
    ['route_set', 'route-set'],
  ])('tamper %s on SIPp\'s link: the proxy drops every forged message, counts it, and the call fails', async (kind, family) => {
    const { agent, snapshot } = await run(kind);
    expect(agent.process.exitCode, agent.stdout).not.toBe(0);
    const { failures } = snapshot.sip.signing;
    expect(snapshot.sip.tamper!.altered).toBeGreaterThan(0);
    expect(failures.total).toBe(snapshot.sip.tamper!.altered);
    expect(failures.byFamily[family]).toBe(failures.total);
    expect(failures.byVerdict).toEqual({ invalid: failures.total });
  });
});
