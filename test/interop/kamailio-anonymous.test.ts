import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { KamailioServer } from '../support/kamailio.js';
import { freePort } from '../support/free-port.js';
import { startSipp } from '../support/sipp.js';
import { staticSdhFactory } from '../support/static-sdh.js';
import { until } from '../support/until.js';
import type { PhoneEvent } from '../../core/api/phone-types.js';
import { Phone } from '../../core/phone/phone.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot, serverArgs, veilphone } from '../support/veilphone-cli.js';

const skip = missingRequirements(['kamailio', 'kamcmd', 'sipp']);
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

  it('a caller\'s informational headers (RFC 3323 §5.3) reach the callee in none of the messages of an anonymous call', async () => {
    await expectNoInformationalHeadersAtCallee({ server: kamailio.servers.udp, sipp: `127.0.0.1:${kamailio.port}`, domain: '127.0.0.1' });
  });
});

/** The same SIPp caller through the embedded lab's conversion server. */
describe.skipIf(missingRequirements(['sipp']))('the embedded lab as the message conversion server, with SIPp as the caller', () => {
  it('a caller\'s informational headers (RFC 3323 §5.3) reach the callee in none of the messages of an anonymous call', async () => {
    const lab = await Lab.start({ timers: { t1: 100, t2: 400 } });
    try {
      await expectNoInformationalHeadersAtCallee({ server: lab.servers.udp!, sipp: `127.0.0.1:${lab.sip.ports.udp}`, domain: lab.domain });
    } finally {
      await lab.stop();
    }
  });
});

/**
 * SIPp calls 184bob with every informational header RFC 3323 §5.3 lists (and Server in its answer to the BYE); bob, a
 * Veilphone phone, answers and hangs up. None of them, nor anything they said, is in what bob received from the caller.
 */
async function expectNoInformationalHeadersAtCallee(at: { server: string; sipp: string; domain: string }): Promise<void> {
  const seen: SipTapEntry[] = [];
  const bob = new Phone({
    accounts: [{ id: 'bob', user: 'bob', server: at.server, transport: 'udp', domain: at.domain, answer: { kind: 'auto' } }],
    createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
    timers: { t1: 100, t2: 400 },
    onTrace: (_account, entry) => seen.push(entry),
  });
  const events: PhoneEvent[] = [];
  bob.subscribe((e) => events.push(e));
  try {
    await bob.register();
    const caller = startSipp({ scenario: 'uac-informational.xml', remote: at.sipp, localPort: await freePort(), service: '184bob', mediaPort: await freePort() });
    const established = await until(() => events.find((e) => e.type === 'call' && e.call.state === 'established'), 20_000);
    await until(() => seen.some((e) => e.dir === 'in' && /^CSeq: 2 ACK/m.test(e.raw)) || undefined, 20_000); // its re-INVITE is through
    await bob.hangup(established.type === 'call' ? established.call.id : '');
    expect(await caller.exitCode(20_000), `SIPp: ${caller.stdout.slice(-1500)}\n${caller.stderr}`).toBe(0);
  } finally {
    await bob.shutdown();
  }
  const received = seen.filter((e) => e.dir === 'in').map((e) => e.raw);
  const invite = received.find((raw) => raw.startsWith('INVITE '))!;
  expect(invite).toMatch(/^From: "Anonymous" <sip:Anonymous\d+@/m); // the lab writes its own domain, Kamailio anonymous.invalid
  const fromCaller = received.filter((raw) => /^(INVITE|ACK) /.test(raw) || /^SIP\/2\.0 200 .*\r\n(?:.*\r\n)*?CSeq: \d+ BYE/m.test(raw));
  // the INVITE and its ACK, the re-INVITE with its new offer and its ACK, the caller's answer to the callee's BYE
  expect(fromCaller.map((raw) => /^CSeq: (\d+ \w+)/m.exec(raw)?.[1]).sort(), received.map((raw) => raw.split('\r\n')[0]).join('\n')).toEqual(['1 ACK', '1 BYE', '1 INVITE', '2 ACK', '2 INVITE']); // bob's BYE is his first request of the dialog
  for (const raw of fromCaller) {
    expect(raw).not.toMatch(/^(Subject|s|Call-Info|Organization|User-Agent|Server|Reply-To|In-Reply-To):/im);
    expect(raw).not.toMatch(/Caller Corp|CallerPhone|caller\.example|Sipp ?Caller/i);
  }
}
