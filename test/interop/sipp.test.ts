import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Child } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import { KamailioServer } from '../support/kamailio.js';
import { startSipp } from '../support/sipp.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot, scenarioVariant, serverArgs, startLabProcess, veilphone } from '../support/veilphone-cli.js';

const skip = missingRequirements(['sipp', 'kamailio']);
const interop = (file: string): string => path.join(projectRoot, 'test/interop/scenarios', file);

interface Server {
  name: string;
  servers: { udp: string; tcp: string; ws: string };
  /** host:port SIPp talks to (UDP). */
  sipp: string;
  stop(): Promise<void>;
}

async function embeddedLab(): Promise<Server> {
  const lab = await startLabProcess();
  return { name: 'the embedded lab', servers: lab.servers, sipp: `127.0.0.1:${lab.udp}`, stop: () => lab.child.stop() };
}

async function kamailio(): Promise<Server> {
  const server = await KamailioServer.start();
  return { name: 'Kamailio', servers: server.servers, sipp: `127.0.0.1:${server.port}`, stop: () => server.stop() };
}

describe.skipIf(skip).each([
  ['the embedded lab', embeddedLab],
  ['Kamailio', kamailio],
] as const)('SIPp and Veilphone through %s', (_name, start) => {
  let server: Server;
  const children: Child[] = [];
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await server?.stop();
  });

  it.each(['udp', 'tcp', 'ws'] as const)('a SIPp UAC calls a Veilphone agent on %s, which answers; SIPp hangs up', async (transport) => {
    const scenario = scenarioVariant(interop('answer-sipp.yaml'), [['transport: udp', `transport: ${transport}`]]);
    const agent = veilphone(['run', scenario, ...serverArgs(server.servers)]);
    children.push(agent);
    await agent.waitFor(/^ok\s+1 register/m);
    const uac = startSipp({ scenario: 'uac.xml', remote: server.sipp, localPort: await freePort(), service: 'bob', mediaPort: await freePort(), extra: ['-rtp_echo'] });
    children.push(uac);
    expect(await uac.exitCode(60_000), `SIPp: ${uac.stdout.slice(-1500)}\n${uac.stderr}`).toBe(0);
    expect(await agent.exitCode(60_000), `${agent.stdout}\n${agent.stderr}`).toBe(0);
  });

  it.each(['udp', 'tcp', 'ws'] as const)('a Veilphone agent on %s calls a SIPp UAS and hangs up', async (transport) => {
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'uas.xml', localPort: uasPort, mediaPort: await freePort(), extra: ['-rtp_echo'] });
    children.push(uas);
    const register = startSipp({ scenario: 'register.xml', remote: server.sipp, localPort: await freePort(), service: 'sipp', keys: { contact_port: String(uasPort), expires: '120' } });
    expect(await register.exitCode(20_000), register.stderr).toBe(0);
    const scenario = scenarioVariant(interop('call-sipp.yaml'), [['transport: udp', `transport: ${transport}`]]);
    const agent = veilphone(['run', scenario, ...serverArgs(server.servers)]);
    children.push(agent);
    expect(await agent.exitCode(60_000), `${agent.stdout}\n${agent.stderr}`).toBe(0);
    expect(await uas.exitCode(30_000), `SIPp: ${uas.stdout.slice(-1500)}\n${uas.stderr}`).toBe(0);
    const unregister = startSipp({ scenario: 'register.xml', remote: server.sipp, localPort: await freePort(), service: 'sipp', keys: { contact_port: String(uasPort), expires: '0' } });
    expect(await unregister.exitCode(20_000)).toBe(0);
  });
});
