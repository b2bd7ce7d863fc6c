import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Child } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import { KamailioServer } from '../support/kamailio.js';
import { rtpPcap } from '../support/rtp-pcap.js';
import { sippScenarios, startSipp } from '../support/sipp.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot, serverArgs, startLabProcess, veilphone } from '../support/veilphone-cli.js';

const skip = missingRequirements(['sipp', 'kamailio']);
const interop = (file: string): string => path.join(projectRoot, 'test/interop/scenarios', file);

interface Server {
  servers: { udp: string; tcp: string; ws: string };
  sipp: string;
  stop(): Promise<void>;
}

async function embeddedLab(): Promise<Server> {
  const lab = await startLabProcess();
  return { servers: lab.servers, sipp: `127.0.0.1:${lab.udp}`, stop: () => lab.child.stop() };
}

async function kamailio(): Promise<Server> {
  const server = await KamailioServer.start();
  return { servers: server.servers, sipp: `127.0.0.1:${server.port}`, stop: () => server.stop() };
}

/** Media interop with SIPp: its RTP echo returns our tone and digits; its pcap replay sends us a tone and RFC 4733 events. */
describe.skipIf(skip).each([
  ['the embedded lab', embeddedLab],
  ['Kamailio', kamailio],
] as const)('RTP and DTMF between Veilphone and SIPp through %s', (_name, start) => {
  let server: Server;
  const children: Child[] = [];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-media-sipp-'));
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await server?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('SIPp receives our tone and RFC 4733 digits: its RTP echo brings both back', async () => {
    const uasPort = await freePort();
    const uas = startSipp({ scenario: 'uas.xml', localPort: uasPort, mediaPort: await freePort(), extra: ['-rtp_echo'] });
    children.push(uas);
    const register = startSipp({ scenario: 'register.xml', remote: server.sipp, localPort: await freePort(), service: 'sipp', keys: { contact_port: String(uasPort), expires: '120' } });
    expect(await register.exitCode(20_000), register.stderr).toBe(0);
    const report = path.join(scratch, 'echo.json');
    const agent = veilphone(['run', interop('call-sipp-media.yaml'), '--report', report, ...serverArgs(server.servers)]);
    children.push(agent);
    expect(await agent.exitCode(60_000), `${agent.stdout}\n${agent.stderr}`).toBe(0);
    expect(await uas.exitCode(30_000), `SIPp: ${uas.stdout.slice(-1500)}\n${uas.stderr}`).toBe(0);
    const leg = JSON.parse(fs.readFileSync(report, 'utf8')).calls[0].legs.caller;
    expect(leg.media).toMatchObject({ codec: 'PCMU', lossPercent: 0 });
    expect(leg.media.packetsReceived).toBeGreaterThanOrEqual(50);
  });

  it('we receive SIPp\'s tone and digits: RFC 4733 from its pcap replay, then SIP INFO', async () => {
    const pcap = path.join(scratch, 'tone-and-digits.pcap');
    fs.writeFileSync(pcap, rtpPcap({ toneHz: 1000, toneMs: 1200, digits: '4#', dtmfPt: 101 }));
    const scenario = path.join(scratch, 'uac-media.xml');
    fs.writeFileSync(scenario, fs.readFileSync(path.join(sippScenarios, 'uac-media.xml'), 'utf8').replaceAll('PCAP_FILE', pcap));
    const report = path.join(scratch, 'pcap.json');
    const agent = veilphone(['run', interop('answer-sipp-media.yaml'), '--report', report, ...serverArgs(server.servers)]);
    children.push(agent);
    await agent.waitFor(/^ok\s+1 register/m);
    const uac = startSipp({ scenario, remote: server.sipp, localPort: await freePort(), service: 'bob', mediaPort: await freePort() });
    children.push(uac);
    expect(await uac.exitCode(60_000), `SIPp: ${uac.stdout.slice(-1500)}\n${uac.stderr}`).toBe(0);
    expect(await agent.exitCode(60_000), `${agent.stdout}\n${agent.stderr}`).toBe(0);
  });
});
