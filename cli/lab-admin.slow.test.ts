import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Child } from '../test/support/child.js';
import { projectRoot, serverArgs, veilphone } from '../test/support/veilphone-cli.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-lab-admin-'));
const children: Child[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('veilphone lab-admin (the operator identifies an anonymous caller from the command line)', () => {
  it('lists the conversion tables and names the caller behind the Call-ID the callee was shown, after the call too', async () => {
    const lab = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--json', '--admin', '0']);
    children.push(lab);
    const ready = JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m))[0]) as { udp: number; tcp: number; ws: number; admin: string };
    expect(ready.admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/snapshot\?token=\S+$/);
    const servers = { udp: `sip:127.0.0.1:${ready.udp};transport=udp`, tcp: `sip:127.0.0.1:${ready.tcp};transport=tcp`, ws: `sip:127.0.0.1:${ready.ws};transport=ws` };

    const report = path.join(scratch, 'report.json');
    const run = veilphone(['run', path.join(projectRoot, 'test/scenarios/anonymous-prefix.yaml'), ...serverArgs(servers), '--report', report, '--quiet']);
    expect(await run.exitCode(60_000), run.stdout + run.stderr).toBe(0);
    const calls = (JSON.parse(fs.readFileSync(report, 'utf8')) as { calls: Array<{ id: string; legs: { callee: { sipCallId: string } } }> }).calls;
    const shown = calls.find((c) => c.id === 'c1')!.legs.callee.sipCallId;

    const identify = veilphone(['lab-admin', ready.admin, 'identify', shown]);
    expect(await identify.exitCode(30_000), identify.stderr).toBe(0);
    expect(identify.stdout).toMatch(new RegExp(`^${shown} is alice@127\\.0\\.0\\.1 \\(shown as Anonymous\\d+\\): Call-ID \\S+, since \\S+, ended(?: \\S+)?$`, 'm'));

    const tables = veilphone(['lab-admin', ready.admin]);
    expect(await tables.exitCode(30_000), tables.stderr).toBe(0);
    expect(tables.stdout).toMatch(/^conversion server \(caller-server\): 2 converted, \d+ anonymous names in use/m);
    expect(tables.stdout).toMatch(new RegExp(`^Anonymous\\d+\\s+alice@127\\.0\\.0\\.1\\s+${shown}\\s`, 'm'));

    const asJson = veilphone(['lab-admin', ready.admin, 'identify', shown, '--json']);
    expect(await asJson.exitCode(30_000)).toBe(0);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ realUser: 'alice@127.0.0.1', convertedCallId: shown });

    // a name of the pool no call drew (names are drawn at random from 1..100, so any fixed one may be in use)
    const inUse = new Set([...tables.stdout.matchAll(/^(Anonymous\d+)\s/gm)].map((match) => match[1]));
    const unused = Array.from({ length: 100 }, (_, i) => `Anonymous${i + 1}`).find((name) => !inUse.has(name))!;
    const nobody = veilphone(['lab-admin', ready.admin, 'identify', unused]);
    expect(await nobody.exitCode(30_000)).toBe(1);
    expect(nobody.stderr).toContain(`no conversion record for ${unused}`);

    const wrongToken = veilphone(['lab-admin', ready.admin.replace(/token=\S+$/, 'token=guess'), 'bindings']);
    expect(await wrongToken.exitCode(30_000)).toBe(2);
    expect(wrongToken.stderr).toMatch(/refused the token/);
  }, 120_000);

  it('takes the links to trust from --trusted (seed 002 ¶[0029]) and shows them; refuses what is not an address', async () => {
    const lab = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--json', '--admin', '0', '--signing', '--trusted', '127.0.0.2', 'udp:[::1]:5070']);
    children.push(lab);
    const ready = JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m))[0]) as { admin: string };
    const snapshot = veilphone(['lab-admin', ready.admin, 'snapshot', '--json']);
    expect(await snapshot.exitCode(30_000), snapshot.stderr).toBe(0);
    expect(JSON.parse(snapshot.stdout).sip.signing.trusted).toEqual([{ address: '127.0.0.2' }, { address: '::1', port: 5070, transport: 'udp' }]);

    for (const [args, message] of [
      [['--signing', '--trusted', 'proxy.example.net'], /--trusted: "proxy\.example\.net" is not a trusted link/],
      [['--trusted', '127.0.0.2'], /add --signing/],
    ] as const) {
      const refused = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', ...args]);
      expect(await refused.exitCode(30_000)).toBe(2);
      expect(refused.stderr).toMatch(message);
    }
  });

  it('shows connections and users refused for a cap in the snapshot (--max-connections-per-source, --max-users)', async () => {
    const lab = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--json', '--admin', '0', '--max-connections-per-source', '1', '--max-users', '1']);
    children.push(lab);
    const ready = JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m))[0]) as { tcp: number; admin: string };
    const connect = (): Promise<net.Socket> =>
      new Promise((resolve) => {
        const socket = net.connect(ready.tcp, '127.0.0.1', () => resolve(socket));
        socket.on('error', () => undefined); // the second one is reset, maybe before its 'connect'
        socket.once('close', () => resolve(socket));
      });
    const held = await connect();
    // a whole request, so the 20 s allowed to a first message cannot close it before the snapshot is read
    held.write(`OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKadm1\r\nMax-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: adm1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    await new Promise<void>((resolve) => held.once('data', () => resolve()));
    const refused = await connect();
    if (!refused.destroyed) await new Promise<void>((resolve) => refused.once('close', () => resolve()));
    expect(held.destroyed).toBe(false);

    const snapshot = veilphone(['lab-admin', ready.admin, 'snapshot']);
    expect(await snapshot.exitCode(30_000), snapshot.stderr).toBe(0);
    const sip = (JSON.parse(snapshot.stdout) as { sip: { rejected: Record<string, number>; connections: unknown; registrar: unknown } }).sip;
    held.destroy();
    expect(sip.rejected).toMatchObject({ TOO_MANY_FROM_SOURCE: 1 });
    expect(sip.connections).toMatchObject({ open: 1, sources: 1, limits: { maxConnections: 2048, maxPerSource: 1, idleTimeoutMs: 300_000 } });
    expect(sip.registrar).toMatchObject({ users: 0, limits: { maxUsers: 1 }, refused: {} });

    const bad = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--max-users', 'lots']);
    expect(await bad.exitCode(30_000)).toBe(2);
    expect(bad.stderr).toMatch(/--max-users must be a whole number/);
  }, 60_000);
});
