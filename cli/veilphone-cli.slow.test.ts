import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab } from '../lab/lab.js';
import { freshBundle } from '../tools/cli-bundle/cli-bundle.js';
import { projectRoot, scenarioVariant, veilphone } from '../test/support/veilphone-cli.js';

const scenarioDir = path.join(projectRoot, 'test/scenarios');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-cli-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('veilphone run (the scripted user agent, through the embedded lab)', () => {
  const files = fs.readdirSync(scenarioDir).filter((f) => f.endsWith('.yaml'));

  it.each(files)('%s passes and exits 0', async (file) => {
    const run = veilphone(['run', path.join(scenarioDir, file), '--report', path.join(scratch, `${file}.json`), '--junit', path.join(scratch, `${file}.xml`)]);
    expect(await run.exitCode(90_000), `${run.stdout}\n${run.stderr}`).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(scratch, `${file}.json`), 'utf8'));
    expect(report.ok).toBe(true);
    expect(report.steps.every((s: { ok: boolean; ms: number }) => s.ok && typeof s.ms === 'number')).toBe(true);
    expect(fs.readFileSync(path.join(scratch, `${file}.xml`), 'utf8')).toMatch(/<testsuite [^>]*failures="0"/);
  });

  it('refuses a report file it cannot write before running anything (exit 3, naming the file), not after the run', async () => {
    const notADir = path.join(scratch, 'a-file');
    fs.writeFileSync(notADir, '');
    for (const [flag, file] of [['--report', path.join(notADir, 'r.json')], ['--junit', path.join(notADir, 'r.xml')]] as const) {
      const run = veilphone(['run', path.join(scenarioDir, 'call-udp-tcp.yaml'), flag, file]);
      expect(await run.exitCode(30_000), `${run.stdout}\n${run.stderr}`).toBe(3);
      expect(run.stderr).toContain(`cannot write the ${flag === '--report' ? 'report' : 'JUnit report'} ${file}:`);
      expect(run.stdout).not.toMatch(/^ok /m); // no step ran
    }
  });

  it('reports a load of calls: statuses, setup times and the most that ran at once, never above its limit', async () => {
    const out = path.join(scratch, 'load-report.json');
    const stats = path.join(scratch, 'load-stats.csv');
    const run = veilphone(['run', path.join(scenarioDir, 'load-parallel.yaml'), '--report', out, '--stats', stats, '--quiet']);
    expect(await run.exitCode(90_000), `${run.stdout}\n${run.stderr}`).toBe(0);
    const [burst, nobody] = JSON.parse(fs.readFileSync(out, 'utf8')).loads;
    // the stats file has a row per load and second, adding up to the report's totals; piped stdout has no progress line
    const [header, ...rows] = fs.readFileSync(stats, 'utf8').trim().split('\n').map((line) => line.split(','));
    const column = (name: string) => header!.indexOf(name);
    const burstRows = rows.filter((r) => r[column('load')] === 'burst');
    expect(burstRows.length).toBeGreaterThanOrEqual(2);
    expect(burstRows.reduce((sum, r) => sum + Number(r[column('started')]), 0)).toBe(30);
    expect(burstRows.reduce((sum, r) => sum + Number(r[column('answered')]), 0)).toBe(30);
    expect(burstRows.at(-1)![column('total_answered')]).toBe('30');
    expect(burstRows.some((r) => Number(r[column('setup_p99_ms')]) > 0)).toBe(true);
    expect(rows.filter((r) => r[column('load')] === 'nobody').reduce((sum, r) => sum + Number(r[column('failed')]), 0)).toBe(5);
    expect(run.stdout.includes('\u001b') || run.stdout.includes('\r')).toBe(false);
    expect(burst.rate).toMatchObject({ asked: 15, achieved: expect.any(Number), sustained: expect.any(Boolean) });
    expect(burst).toMatchObject({ id: 'burst', plan: { calls: 30, rate: 15, parallel: 6, holdMs: 300 }, attempted: 30, established: 30, failed: 0, statuses: { '200': 30 } });
    expect(burst.peakParallel).toBeLessThanOrEqual(6);
    expect(burst.setupMs.p50).toBeLessThanOrEqual(burst.setupMs.p95);
    expect(burst.elapsedMs).toBeGreaterThanOrEqual((29 / 15) * 1000); // 30 calls at 15 per second span 29/15 s at least
    expect(nobody).toMatchObject({ attempted: 5, established: 0, failed: 5, statuses: { '404': 5 } });
  });

  it('says when a load could not keep its asked rate: achieved rate and queueing, and `sustained: true` fails', async () => {
    const out = path.join(scratch, 'slow-load-report.json');
    // one call at a time, each held 400 ms: 50 calls/s asked, about 2 possible
    const file = scenarioVariant(path.join(scenarioDir, 'load-parallel.yaml'), [
      ['calls: 30, rate: 15, parallel: 6, hold: 300ms', 'calls: 4, rate: 50, parallel: 1, hold: 400ms'],
      ['established: 30, max_failed: 0', 'established: 4, max_failed: 0, sustained: true'],
    ]);
    const run = veilphone(['run', file, '--report', out, '--quiet']);
    expect(await run.exitCode(90_000), `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.stdout).toMatch(/^WARN load burst: asked 50 calls\/s, achieved [\d.]+ calls\/s; starts fell up to \d+ ms behind schedule with up to \d+ calls queued: 3 starts waited/m);
    expect(run.stdout).toMatch(/FAIL .*expected load burst to sustain its rate: asked 50 calls\/s/);
    const [burst] = JSON.parse(fs.readFileSync(out, 'utf8')).loads;
    expect(burst).toMatchObject({ established: 4, rate: { asked: 50, sustained: false, heldByParallel: 3 } });
    expect(burst.rate.achieved).toBeLessThan(10);
  });

  it.each([
    ['the bundle', {}],
    ['the TypeScript sources', { VEILPHONE_FROM_SOURCE: '1' }],
  ])('spreads a load over worker threads (run from %s): each thread places calls from its own phone, every call in the call log', async (_from, env) => {
    // the bundle's case must run the bundle (bin/load-worker.js would fall back to the sources when it is stale)
    if (Object.keys(env).length === 0) expect(freshBundle(), 'the CLI bundle is stale: npm run build:cli').toBeDefined();
    const dataDir = fs.mkdtempSync(path.join(scratch, 'workers-'));
    const out = path.join(scratch, `workers-${Object.keys(env).length}.json`);
    const run = veilphone(['run', path.join(scenarioDir, 'load-workers.yaml'), '--report', out, '--quiet'], { dataDir, env });
    expect(await run.exitCode(90_000), `${run.stdout}\n${run.stderr}`).toBe(0);
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(report.loads[0]).toMatchObject({ id: 'spread', plan: { calls: 40, workers: 2 }, attempted: 40, established: 40, failed: 0 });
    // the agent itself placed none of them (its trace has its REGISTER only); bob got them from two phones' sockets
    expect(report.agents.alice.trace.some((m: { raw: string }) => m.raw.startsWith('INVITE '))).toBe(false);
    const invites = report.agents.bob.trace.filter((m: { dir: string; raw: string }) => m.dir === 'in' && m.raw.startsWith('INVITE '));
    expect(invites).toHaveLength(40);
    const contactPorts = new Set(invites.map((m: { raw: string }) => /^Contact:.*?:(\d+)[;>]/im.exec(m.raw)?.[1]));
    expect(contactPorts.size).toBe(2);
    // the workers' calls reached the run's call log through their relays: 40 outgoing, 40 incoming, each with its messages
    const list = veilphone(['logs', 'list', '--json', '--direction', 'outgoing'], { dataDir });
    expect(await list.exitCode(30_000), list.stderr).toBe(0);
    const outgoing = JSON.parse(list.stdout) as Array<{ id: string; result: string; accountId: string }>;
    expect(outgoing.filter((c) => c.result === 'answered' && c.accountId === 'alice')).toHaveLength(40);
    const shown = veilphone(['logs', 'show', outgoing[0]!.id, '--json'], { dataDir });
    expect(await shown.exitCode(30_000), shown.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(shown.stdout).messages.map((m: { raw: string }) => m.raw.split(' ')[0]))).toMatch(/INVITE.*ACK.*BYE/);
  });

  it('hangs up the calls of load workers when the scenario runs out of time, and logs how each ended', async () => {
    const dataDir = fs.mkdtempSync(path.join(scratch, 'workers-cut-'));
    // 4 calls held 60 s each, in a scenario of 4 s: the timeout cuts the load while its calls are up
    const file = scenarioVariant(path.join(scenarioDir, 'load-workers.yaml'), [
      ['timeout: 2m', 'timeout: 4s'],
      ['calls: 40, rate: 20, parallel: 10, hold: 100ms, workers: 2', 'calls: 4, rate: 20, parallel: 10, hold: 60s, workers: 2'],
    ]);
    const run = veilphone(['run', file, '--quiet'], { dataDir });
    expect(await run.exitCode(60_000), `${run.stdout}\n${run.stderr}`).toBe(1);
    const list = veilphone(['logs', 'list', '--json', '--direction', 'outgoing'], { dataDir });
    expect(await list.exitCode(30_000), list.stderr).toBe(0);
    const outgoing = JSON.parse(list.stdout) as Array<{ result: string; endedAt?: number; endedBy?: string }>;
    expect(outgoing).toHaveLength(4);
    // each was answered and then hung up by its worker's phone: none left in progress, none interrupted
    expect(outgoing.map((c) => [c.result, c.endedBy, typeof c.endedAt])).toEqual(Array(4).fill(['answered', 'local', 'number']));
  });

  it('stopped with Ctrl-C (SIGINT) mid-run: hangs up, unregisters from its server, writes its report and exits 1 naming the interrupted step', async () => {
    const lab = await Lab.start();
    try {
      const file = path.join(scratch, 'interrupted.yaml');
      fs.writeFileSync(
        file,
        [
          `server: ${lab.servers.udp!}`,
          'agents:',
          '  alice: { user: alice }',
          '  bob: { user: bob, answer: auto }',
          'steps:',
          '  - register: alice',
          '  - register: bob',
          '  - call: { from: alice, to: bob, id: c1 }',
          '  - expect: { call: c1, state: established, within: 5s }',
          '  - wait: 60s',
          '  - hangup: { call: c1 }',
          '',
        ].join('\n'),
      );
      const out = path.join(scratch, 'interrupted.json');
      const run = veilphone(['run', file, '--report', out]);
      await run.waitFor(/ok +4 /, 60_000);
      expect(lab.sip.bindings().map((b) => b.user).sort()).toEqual(['alice', 'bob']);
      run.process.kill('SIGINT');
      expect(await run.exitCode(30_000), `${run.stdout}\n${run.stderr}`).toBe(1);
      expect(run.stdout).toMatch(/FAIL .*step 5 \(wait: "60s"\): interrupted \(SIGINT\)/);
      const report = JSON.parse(fs.readFileSync(out, 'utf8')) as { steps: Array<{ ok: boolean; reason?: string }>; calls: Array<{ legs: { caller: { state: string } } }> };
      expect(report.steps.map((s) => s.reason ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ok', 'interrupted (SIGINT)', 'not run: the run was interrupted']);
      expect(report.calls.map((c) => c.legs.caller.state)).toEqual(['terminated']);
      expect(lab.sip.bindings()).toEqual([]); // nothing left registered (before: the process died and both bindings stayed)

      // a second signal, of the other kind, ends a run that is still stopping at once (a 60 s wait ahead of it)
      const again = veilphone(['run', file, '--report', out]);
      await again.waitFor(/ok +4 /, 60_000);
      again.process.kill('SIGINT');
      again.process.kill('SIGTERM');
      expect(await again.exitCode(30_000)).toBe(null); // ended by the signal, not by a code
    } finally {
      await lab.stop();
    }
  });

  it('refuses more load workers than it allows, naming the limit (exit 2)', async () => {
    const file = scenarioVariant(path.join(scenarioDir, 'load-workers.yaml'), [['workers: 2', 'workers: 17']]);
    const run = veilphone(['run', file]);
    expect(await run.exitCode(30_000)).toBe(2);
    expect(run.stderr).toMatch(/workers.*at most 16 workers/);
  });

  it('reports every call with status, setup and duration, and each agent\'s full SIP trace', async () => {
    const out = path.join(scratch, 'udp-tcp-report.json');
    const run = veilphone(['run', path.join(scenarioDir, 'call-udp-tcp.yaml'), '--report', out, '--quiet']);
    expect(await run.exitCode(60_000)).toBe(0);
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    const c1 = report.calls.find((c: { id: string }) => c.id === 'c1');
    expect(c1).toMatchObject({ id: 'c1', status: 200 });
    expect(c1.setupMs).toBeGreaterThan(0);
    expect(c1.durationMs).toBeGreaterThanOrEqual(150);
    const trace = report.agents.alice.trace as Array<{ dir: string; at: number; local: string; remote: string; raw: string }>;
    expect(trace.find((e) => e.dir === 'out' && e.raw.startsWith('INVITE '))).toMatchObject({ local: expect.stringMatching(/^127\.0\.0\.1:\d+$/), remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(trace.some((e) => e.dir === 'in' && e.raw.startsWith('SIP/2.0 200 OK') && /CSeq: \d+ BYE/.test(e.raw))).toBe(true);
    expect(report.agents.bob.trace.some((e: { raw: string }) => e.raw.startsWith('INVITE '))).toBe(true);
  });

  it('exits 1 and names the step when an expectation fails', async () => {
    const file = scenarioVariant(path.join(scenarioDir, 'unknown-user.yaml'), [['status: 404', 'status: 486']]);
    const run = veilphone(['run', file]);
    expect(await run.exitCode(60_000)).toBe(1);
    expect(run.stdout).toMatch(/FAIL .*step 3 .*expected call c1 .*status 486, got 404/);
  });

  it('exits 2 with the path of the offending key for an invalid scenario', async () => {
    const file = path.join(scratch, 'invalid.yaml');
    fs.writeFileSync(file, 'lab: embedded\nagents:\n  alice: { user: alice, transport: carrier-pigeon }\nsteps:\n  - register: alice\n');
    const run = veilphone(['run', file]);
    expect(await run.exitCode(30_000)).toBe(2);
    expect(run.stderr).toMatch(/agents\.alice\.transport/);
    const unknownStep = path.join(scratch, 'unknown-step.yaml');
    fs.writeFileSync(unknownStep, 'lab: embedded\nagents:\n  alice: { user: alice }\nsteps:\n  - register: alice\n  - teleport: { to: mars }\n');
    const second = veilphone(['run', unknownStep]);
    expect(await second.exitCode(30_000)).toBe(2);
    expect(second.stderr).toMatch(/steps\[1\]\.teleport/);
  });

  it('exits 3 when the environment fails (the lab\'s port is taken)', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const lab = veilphone(['lab', '--udp', '0', '--tcp', String(port), '--ws', '0']);
      expect(await lab.exitCode(30_000)).toBe(3);
      // which port, and the option that moves it; no stack
      expect(lab.stderr).toBe(`veilphone lab: cannot start: TCP port ${port} on 127.0.0.1 (--tcp) is already in use: stop what holds it, or choose another with --tcp PORT (0 = any free port)\n`);
      const ws = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', String(port)]);
      expect(await ws.exitCode(30_000)).toBe(3);
      expect(ws.stderr).toMatch(new RegExp(`TCP port ${port} on 127\\.0\\.0\\.1 \\(--ws\\) is already in use`));
      const serve = veilphone(['serve', '--port', String(port)]);
      expect(await serve.exitCode(60_000)).toBe(3);
      expect(serve.stderr).toMatch(new RegExp(`veilphone serve: TCP port ${port} on 127\\.0\\.0\\.1 \\(--port\\) is already in use: .*--port PORT`));
      expect(serve.stderr).not.toMatch(/^\s+at /m);
    } finally {
      blocker.close();
    }
  });

  it('serve stopped while its REGISTER waits for a silent server says nothing of a failed registration: nothing failed', async () => {
    const silent = dgram.createSocket('udp4'); // hears the REGISTER and never answers
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    let heard = false;
    silent.on('message', (data) => (heard ||= data.toString('latin1').startsWith('REGISTER ')));
    try {
      const serve = veilphone(['serve', '--server', `sip:127.0.0.1:${silent.address().port}`, '--user', 'alice', '--json', '--port', '0']);
      await serve.waitFor(/"event":"ready"/, 60_000);
      for (let i = 0; i < 200 && !heard; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(heard).toBe(true);
      serve.process.kill('SIGINT');
      expect(await serve.exitCode(60_000)).toBe(0);
      expect(serve.stderr).not.toMatch(/registration failed/);
    } finally {
      silent.close();
    }
  });

  // helper 73: a provisioned phone kept the default user (alice) and ignored the boot file's account
  it("serve --provision dhcp without --user takes the boot file's account; with --user, its own", async () => {
    for (const [args, user] of [[[], 'phone'], [['--user', 'alice'], 'alice']] as const) {
      const serve = veilphone(['serve', '--provision', 'dhcp', '--json', '--port', '0', ...args]);
      try {
        const line = await serve.waitFor(/^\{"event":"ready".*\}$/m, 60_000);
        expect(JSON.parse(line[0]!)).toMatchObject({ account: user, lease: expect.objectContaining({ address: expect.any(String) }) });
      } finally {
        serve.process.kill('SIGINT');
        await serve.exitCode(60_000);
      }
    }
  });

  it('serve refuses a provisioning it cannot do, before starting anything', async () => {
    for (const [args, message] of [
      [['--provision', 'bootp'], /--provision must be static or dhcp, got "bootp"/],
      [['--provision', 'dhcp', '--server', 'sip:127.0.0.1:5999'], /leave out --server/],
      [['--provision', 'dhcp', '--transport', 'tcp'], /use --transport udp/],
      [['--dhcp-interface', 'eth0'], /--dhcp-interface names where to lease from: add --provision dhcp/],
      [['--provision', 'dhcp', '--dhcp-interface', 'eth0', '--signing'], /--signing is the embedded lab's/],
    ] as const) {
      const serve = veilphone(['serve', ...args]);
      expect(await serve.exitCode(30_000)).toBe(2);
      expect(serve.stderr).toMatch(message);
    }
    const start = veilphone(['start', '--dhcp-interface', 'eth0']);
    expect(await start.exitCode(30_000)).toBe(2);
    expect(start.stderr).toMatch(/veilphone start: --dhcp-interface names where to lease from: add --provision dhcp/);
    // An interface that cannot be one fails in provisioning (exit 3), before any socket or address is touched.
    const serve = veilphone(['serve', '--provision', 'dhcp', '--dhcp-interface', '..']);
    expect(await serve.exitCode(30_000)).toBe(3);
    expect(serve.stderr).toMatch(/provisioning failed: "\.\." is not a network interface name/);
  });

  it('start (npm start) says there is no Electron binary here in a few lines, no stack, then serves the UI with the embedded lab and opens it', async () => {
    // a stand-in for xdg-open first on PATH records what the browser was asked to open
    const bin = fs.mkdtempSync(path.join(scratch, 'bin-'));
    const opened = path.join(bin, 'opened.txt');
    fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 });
    const start = veilphone(['start'], { env: { PATH: `${bin}:${process.env.PATH}`, CI: '', VEILPHONE_NO_OPEN: '' } });
    try {
      const line = await start.waitFor(/No Electron binary on this machine: .* at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/, 120_000);
      const url = new URL(line[1]!);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root"></div>');
      expect((await fetch(new URL('/../../package.json', url))).status).toBe(404);
      await expect.poll(() => (fs.existsSync(opened) ? fs.readFileSync(opened, 'utf8') : ''), { timeout: 10_000 }).toBe(url.href);
      const printed = `${start.stdout}${start.stderr}`;
      expect(printed).not.toMatch(/Downloading|TypeError|^\s+at /m);
      // the second phone's command pastes into a shell as it reads: the server URI quoted
      const hint = /a second phone: (npx veilphone serve --server '(sip:127\.0\.0\.1:\d+;transport=udp)' --user bob)\)/.exec(start.stdout);
      expect(hint, start.stdout).not.toBeNull();
      expect(execFileSync('/bin/sh', ['-c', `set -- ${hint![1]!.replace(/^npx veilphone /, '')}; printf '%s|' "$@"`], { encoding: 'utf8' })).toBe(`serve|--server|${hint![2]}|--user|bob|`);
    } finally {
      await start.stop();
    }
  }, 150_000);

  it('start --no-open leaves the browser closed', async () => {
    const bin = fs.mkdtempSync(path.join(scratch, 'bin-'));
    const opened = path.join(bin, 'opened.txt');
    fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 });
    const start = veilphone(['start', '--no-open'], { env: { PATH: `${bin}:${process.env.PATH}`, CI: '', VEILPHONE_NO_OPEN: '' } });
    try {
      await start.waitFor(/No Electron binary on this machine/, 120_000);
      await start.waitFor(/for the desktop app, fetch Electron once/, 10_000);
      expect(fs.existsSync(opened)).toBe(false);
    } finally {
      await start.stop();
    }
    expect(fs.existsSync(opened)).toBe(false);
  }, 150_000);
});
