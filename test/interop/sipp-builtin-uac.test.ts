import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScenarioReport } from '../../core/scenario/scenario-report.js';
import { Child } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot, serverArgs, startLabProcess, veilphone } from '../support/veilphone-cli.js';

const skip = missingRequirements(['sipp']);

/**
 * Issue 19 items 1-2: SIPp's built-in `uac` scenario, unmodified, ignores Record-Route: its ACK and BYE go to the
 * INVITE's Request-URI (bob's address-of-record at the lab) with no Route. The lab forwarded the BYE but dropped the
 * ACK, so the agent retransmitted its 200 until the BYE came, and 64·T1 later sip.js threw out of Timer L.
 */
describe.skipIf(skip)("SIPp's built-in uac through the embedded lab", () => {
  const children: Child[] = [];
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
  });

  it('reaches a Veilphone agent with its ACK and its BYE, and the call ends cleanly on both sides', async () => {
    const lab = await startLabProcess();
    children.push(lab.child);
    const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vp-uac-')), 'report.json');
    const agent = veilphone(['run', path.join(projectRoot, 'test/interop/scenarios/answer-sipp.yaml'), ...serverArgs(lab.servers), '--report', report]);
    children.push(agent);
    await agent.waitFor(/^ok\s+1 register/m);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-sipp-'));
    const uac = Child.start('sipp', [`127.0.0.1:${lab.udp}`, '-sn', 'uac', '-s', 'bob', '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '1', '-timeout', '30s', '-timeout_error', '-nostdin', '-trace_err'], { cwd: dir });
    children.push(uac);
    expect(await uac.exitCode(60_000), `SIPp: ${uac.stdout.slice(-1500)}\n${uac.stderr}`).toBe(0);
    expect(await agent.exitCode(60_000), `${agent.stdout}\n${agent.stderr}`).toBe(0);
    const bob = (JSON.parse(fs.readFileSync(report, 'utf8')) as ScenarioReport).agents.bob!;
    const invite = [...bob.trace].find((e) => e.dir === 'in' && e.raw.startsWith('INVITE '))!;
    const callId = /^Call-ID:\s*(\S+)/im.exec(invite.raw)![1]!;
    const inDialog = [...bob.trace].filter((e) => e.dir === 'in' && e.raw.includes(callId)).map((e) => e.raw.split(' ')[0]);
    expect(inDialog).toEqual(expect.arrayContaining(['ACK', 'BYE']));
  });
});
