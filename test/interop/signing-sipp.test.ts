import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Child } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import { startSipp } from '../support/sipp.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot, serverArgs, veilphone } from '../support/veilphone-cli.js';

const skip = missingRequirements(['sipp']);

interface SigningSnapshot {
  sip: {
    signing: { verified: Record<string, number>; signed: Record<string, number>; failures: { total: number; byFamily: Record<string, number>; byVerdict: Record<string, number> } };
    tamper?: { kind: string; altered: number };
  };
}

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
    const lab = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--json', '--signing', '--admin', '0', ...(tamper ? ['--tamper', tamper] : [])]);
    children.push(lab);
    const ready = JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m))[0]) as { udp: number; tcp: number; ws: number; admin: string };
    const servers = { udp: `sip:127.0.0.1:${ready.udp};transport=udp`, tcp: `sip:127.0.0.1:${ready.tcp};transport=tcp`, ws: `sip:127.0.0.1:${ready.ws};transport=ws` };
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'uas-hangup.xml', localPort: uasPort, mediaPort: await freePort(), timeoutS: 20, extra: ['-rtp_echo'] });
    children.push(uas);
    const register = startSipp({ scenario: 'register.xml', remote: `127.0.0.1:${ready.udp}`, localPort: await freePort(), service: 'sipp', keys: { contact_port: String(uasPort), expires: '120' } });
    expect(await register.exitCode(20_000), register.stderr).toBe(0);
    const agent = veilphone(['run', path.join(projectRoot, 'test/interop/scenarios/call-sipp-hangs-up.yaml'), ...serverArgs(servers)]);
    children.push(agent);
    await agent.exitCode(60_000);
    await uas.exitCode(30_000);
    const response = await fetch(ready.admin);
    return { agent, uas, snapshot: (await response.json()) as SigningSnapshot };
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
    const lab = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--json', '--signing', '--admin', '0']);
    children.push(lab);
    const ready = JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m))[0]) as { udp: number; tcp: number; ws: number; admin: string };
    const servers = { udp: `sip:127.0.0.1:${ready.udp};transport=udp`, tcp: `sip:127.0.0.1:${ready.tcp};transport=tcp`, ws: `sip:127.0.0.1:${ready.ws};transport=ws` };
    const agent = veilphone(['run', path.join(projectRoot, 'test/interop/scenarios/answer-sipp.yaml'), ...serverArgs(servers)]);
    children.push(agent);
    await agent.waitFor(/^ok\s+1 register/m);
    const uac = startSipp({ scenario: 'uac.xml', remote: `127.0.0.1:${ready.udp}`, localPort: await freePort(), service: 'bob', mediaPort: await freePort(), extra: ['-rtp_echo'] });
    children.push(uac);
    expect(await uac.exitCode(60_000), `SIPp: ${uac.stdout.slice(-1500)}\n${uac.stderr}`).toBe(0);
    expect(await agent.exitCode(60_000), `${agent.stdout}\n${agent.stderr}`).toBe(0);
    const signing = ((await (await fetch(ready.admin)).json()) as SigningSnapshot).sip.signing;
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
