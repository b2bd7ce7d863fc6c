import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot, scenarioVariant, veilphone } from '../test/support/veilphone-cli.js';

/** Seed 002 end to end: the scenarios of test/scenarios/signing run by `veilphone run`, their reports read back. */
const dir = path.join(projectRoot, 'test/scenarios/signing');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-signing-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface SigningReport {
  ok: boolean;
  steps: Array<{ ok: boolean; step: string; reason?: string }>;
  lab: {
    sip: {
      signing: {
        signed: Record<string, number>;
        verified: Record<string, number>;
        failures: { total: number; byFamily: Record<string, number>; byVerdict: Record<string, number>; recent: Array<{ family: string; verdict: string; message: string }> };
      };
      tamper?: { kind: string; altered: number };
      counters: { dropped: Record<string, number> };
    };
  };
}

async function run(file: string, expectedExit = 0): Promise<{ report: SigningReport; stdout: string }> {
  const report = path.join(scratch, `${path.basename(file)}-${Math.random().toString(36).slice(2)}.json`);
  const child = veilphone(['run', file, '--report', report]);
  expect(await child.exitCode(120_000), `${child.stdout}\n${child.stderr}`).toBe(expectedExit);
  return { report: JSON.parse(fs.readFileSync(report, 'utf8')) as SigningReport, stdout: child.stdout };
}

describe.concurrent('signed routing headers through `veilphone run`', { timeout: 240_000 }, () => {
  it('an honest call: every signature the phones hold verifies, and the proxy rejects nothing', async () => {
    const { report } = await run(path.join(dir, 'signed-call.yaml'));
    expect(report.ok).toBe(true);
    const signing = report.lab.sip.signing;
    expect(signing.failures.total).toBe(0); // zero false rejections
    expect(report.lab.sip.counters.dropped).not.toHaveProperty('SIGNATURE_INVALID');
    expect(signing.signed['route-set-callee']).toBe(2);
    expect(signing.verified.via).toBeGreaterThanOrEqual(4);
    expect(signing.verified['record-route']).toBeGreaterThanOrEqual(2);
    expect(signing.verified['route-set']).toBeGreaterThanOrEqual(4);
  });

  it.each([
    ['tamper-via.yaml', 'via', /^SIP\/2\.0 (180|200) /],
    ['tamper-record-route.yaml', 'record-route', /^SIP\/2\.0 (180|200) /],
    ['tamper-route-set.yaml', 'route-set', /^ACK /],
    ['tamper-replay.yaml', 'route-set', /^ACK /],
  ])('%s: the proxy drops every forged message, counts it, and the call fails', async (file, family, dropped) => {
    const { report } = await run(path.join(dir, file));
    expect(report.ok).toBe(true);
    const { failures } = report.lab.sip.signing;
    const tamper = report.lab.sip.tamper!;
    expect(tamper.altered).toBeGreaterThan(0);
    expect(failures.total).toBe(tamper.altered); // each forgery caught, nothing else refused
    expect(failures.byFamily[family]).toBe(failures.total);
    expect(failures.byVerdict).toEqual({ invalid: failures.total });
    expect(failures.recent[0]!.message).toMatch(dropped);
    expect(report.lab.sip.counters.dropped.SIGNATURE_INVALID).toBe(failures.total);
  });

  it('the expectations can fail: a tampered call is not "working", and a forged signature is not "valid"', async () => {
    const working = scenarioVariant(path.join(dir, 'tamper-route-set.yaml'), [['failed: true', 'failed: false']]);
    const { report, stdout } = await run(working, 1);
    expect(report.steps.find((s) => !s.ok)?.reason).toMatch(/expected call c1 \(alice's leg\) to work, but ACK \(CSeq 1\) from alice never reached bob/);
    expect(stdout).toMatch(/FAIL/);

    const never = scenarioVariant(path.join(dir, 'tamper-via.yaml'), [['failed: true', 'failed: false']]);
    expect((await run(never, 1)).report.steps.find((s) => !s.ok)?.reason).toMatch(/never established/);

    const invalid = scenarioVariant(path.join(dir, 'signed-call.yaml'), [['signatures: { via: valid, record_route: valid, route_set: valid } }\n  # Alice', 'signatures: { via: invalid } }\n  # Alice']]);
    expect((await run(invalid, 1)).report.steps.find((s) => !s.ok)?.reason).toMatch(/via: none invalid, \d+ valid/);
  });

  it('refuses an unknown tamper kind and signature expectations without a call (exit 2)', async () => {
    const bad = path.join(scratch, 'bad-tamper.yaml');
    fs.writeFileSync(bad, 'lab: { mode: embedded, signing: true, tamper: headers }\nagents:\n  alice: { user: alice }\nsteps:\n  - register: alice\n');
    const child = veilphone(['run', bad]);
    expect(await child.exitCode(30_000)).toBe(2);
    expect(child.stderr).toMatch(/invalid scenario: .*: lab\.tamper: .*"via"\|"record_route"\|"route_set"\|"replay"/);
    const noCall = path.join(scratch, 'no-call.yaml');
    fs.writeFileSync(noCall, 'lab: { mode: embedded, signing: true }\nagents:\n  alice: { user: alice }\nsteps:\n  - expect: { agent: alice, signatures: { via: valid } }\n');
    const second = veilphone(['run', noCall]);
    expect(await second.exitCode(30_000)).toBe(2);
    expect(second.stderr).toMatch(/signatures and failed are about a call/);
  });

  it('veilphone lab --signing prints an alert when forged messages exceed 10 a second, counts them in its admin view, and keeps the key file', async () => {
    const keysOut = path.join(scratch, 'keys.json');
    const lab = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--signing', '--keys-out', keysOut, '--json', '--admin', '0']);
    const socket = dgram.createSocket('udp4');
    try {
      const ready = JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m))[0]) as { udp: number; signing: boolean; admin: string };
      expect(ready.signing).toBe(true);
      expect(JSON.parse(fs.readFileSync(keysOut, 'utf8')).keys.map((k: { class: string }) => k.class).sort()).toEqual(['record-route', 'route-set', 'via']);
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      for (let i = 0; i < 15; i++) {
        const bye = `BYE sip:bob@127.0.0.1:9 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${socket.address().port};branch=z9hG4bKforged${i}\r\nRoute: <sip:127.0.0.1:${ready.udp};transport=udp;lr>\r\nFrom: <sip:m@127.0.0.1>;tag=f${i}\r\nTo: <sip:bob@127.0.0.1>;tag=t${i}\r\nCall-ID: forged-${i}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n`;
        await new Promise<void>((resolve) => socket.send(bye, ready.udp, '127.0.0.1', () => resolve()));
      }
      const alert = JSON.parse((await lab.waitFor(/^\{"event":"signing-alert".*\}$/m))[0]) as { perSecond: number; threshold: number; last: { verdict: string; family: string } };
      expect(alert).toMatchObject({ perSecond: 11, threshold: 10, last: { verdict: 'missing', family: 'route-set' } });
      // ¶[0026]: the operator's view counts every dropped message, by family and verdict.
      const admin = veilphone(['lab-admin', ready.admin, 'snapshot']);
      expect(await admin.exitCode(30_000)).toBe(0);
      const snapshot = JSON.parse(admin.stdout) as { sip: { signing: { failures: { total: number; byFamily: Record<string, number>; byVerdict: Record<string, number> } } } };
      expect(snapshot.sip.signing.failures).toMatchObject({ total: 15, byFamily: { 'route-set': 15 }, byVerdict: { missing: 15 } });
    } finally {
      socket.close();
      await lab.stop();
    }
  });
});
