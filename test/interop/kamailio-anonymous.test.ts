import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KamailioServer } from '../support/kamailio.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot, serverArgs, veilphone } from '../support/veilphone-cli.js';

const skip = missingRequirements(['kamailio', 'kamcmd']);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-kam-anon-'));

/**
 * SPEC A: "the project ships a Kamailio configuration that does the conversion-server job there". Anonymous calls
 * (184 prefix and anonymity header) through deploy/kamailio/kamailio.cfg: the callee is told nothing about the caller
 * (caller_hidden, the same fingerprint check as against the embedded lab), and the operator's table names the caller.
 */
describe.skipIf(skip)('Kamailio as the message conversion server (seed 000)', () => {
  let kamailio: KamailioServer;
  beforeAll(async () => {
    kamailio = await KamailioServer.start();
  });
  afterAll(async () => {
    await kamailio?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('hides the caller in both modes over UDP, TCP and WebSocket, and its conversion table names the caller', async () => {
    const report = path.join(scratch, 'report.json');
    const run = veilphone(['run', path.join(projectRoot, 'test/interop/scenarios/anonymous-kamailio.yaml'), ...serverArgs(kamailio.servers), '--report', report]);
    expect(await run.exitCode(90_000), `${run.stdout}\n${run.stderr}`).toBe(0);
    const result = JSON.parse(fs.readFileSync(report, 'utf8')) as {
      calls: Array<{ id: string; legs: { caller: { sipCallId: string }; callee: { sipCallId: string } } }>;
      agents: Record<string, { trace: Array<{ dir: string; raw: string }> }>;
    };
    const c1 = result.calls.find((c) => c.id === 'c1')!;
    const c2 = result.calls.find((c) => c.id === 'c2')!;
    // topoh: the callee sees neither the caller's Call-ID nor its Vias.
    expect(c1.legs.callee.sipCallId).not.toBe(c1.legs.caller.sipCallId);
    const invite = result.agents.bob!.trace.find((e) => e.dir === 'in' && e.raw.startsWith('INVITE ') && e.raw.includes(c1.legs.callee.sipCallId))!.raw;
    expect(invite).toMatch(/^From: "Anonymous" <sip:Anonymous\d+@anonymous\.invalid>;tag=/m);
    // Kamailio's own Via, then one that encodes all the caller's side under topoh's mask address.
    expect(invite.match(/^Via: .*$/gm)).toEqual([expect.stringMatching(/^Via: SIP\/2\.0\/TCP 127\.0\.0\.1:\d+;/), expect.stringMatching(/^Via: SIP\/2\.0\/UDP 192\.0\.2\.184;branch=z9hG4bKsr-/)]);
    expect(invite).toMatch(/^Contact: <sip:192\.0\.2\.184;line=sr-/m);
    expect(invite).toMatch(/^Privacy: id$/m);
    expect(invite).not.toMatch(/^P-(Preferred|Asserted)-Identity:/im);
    expect(invite).toMatch(/^o=anonymous /m);

    const ctl = `unix:${path.join(kamailio.dir, 'kamailio_ctl')}`;
    const lookup = (key: string): string => execFileSync('kamcmd', ['-s', ctl, 'htable.get', 'anon', key], { encoding: 'utf8', timeout: 10_000 });
    // The operator's table: the caller's Call-ID (as Kamailio sees it) and the AnonymousN the callee was shown.
    expect(lookup(c1.legs.caller.sipCallId)).toMatch(/Anonymous\d+ sip:alice@127\.0\.0\.1/);
    const shownAs = /<sip:(Anonymous\d+)@/.exec(invite)![1]!;
    expect(shownAs).toMatch(/^Anonymous([1-9]\d?|100)$/); // a name of the pool, drawn at random
    expect(lookup(c1.legs.caller.sipCallId)).toMatch(new RegExp(`value: ${shownAs} sip:alice@127\\.0\\.0\\.1`));
    const c2Shown = /value: (Anonymous\d+) sip:carol@127\.0\.0\.1/.exec(lookup(c2.legs.caller.sipCallId)); // header mode: its P-Preferred-Identity
    expect(c2Shown).not.toBeNull();
    // a name points at the latest call that drew it (kamailio.cfg): c2 draws from the same 100 names and may have drawn this one
    const latest = c2Shown![1] === shownAs ? c2 : c1;
    expect(lookup(shownAs)).toMatch(new RegExp(`${latest.legs.caller.sipCallId} sip:${latest === c1 ? 'alice' : 'carol'}@127\\.0\\.0\\.1`));
  });
});
