import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from '../test/support/child.js';
import { freePort } from '../test/support/free-port.js';
import { KamailioServer } from '../test/support/kamailio.js';
import { startSipp } from '../test/support/sipp.js';
import { projectRoot, serverArgs, startLabProcess } from '../test/support/veilphone-cli.js';
import { quantile, type BenchResult } from './bench-result.js';
import { captureLoopback } from './loopback-capture.js';
import { wireRate, wireTimes } from './wire-timing.js';

const rate = Number(process.env.BENCH_LOAD_RATE ?? 50);
const seconds = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const calls = rate * seconds;
const uacQuick = path.resolve(import.meta.dirname, 'sipp/uac-quick.xml');
const bin = path.join(projectRoot, 'bin/veilphone.js');

interface LoadRow {
  side: string;
  answered: number;
  failed: number;
  /** INVITEs started per second on the wire (the caller's first copies to the proxy). */
  achieved: number;
  /** INVITE → 200 on the caller–proxy leg, from packet timestamps. */
  setupWire: number[];
  wallS: number;
  /** The caller's peak resident memory (the `veilphone run` process; SIPp's UAC). */
  maxRssMb: number;
  /** CPU time (user + system) of that process, per attempted call. */
  cpuMsPerCall: number;
}

/** Peak RSS, wall and CPU time of a command, by GNU time (-f "%M %e %U %S" on the last stderr line). */
function timed(command: string, args: string[], cwd: string): Child {
  return Child.start('/usr/bin/time', ['-f', 'bench-time %M %e %U %S', command, ...args], { cwd });
}

function timeOf(child: Child): { maxRssMb: number; wallS: number; cpuMsPerCall: number } {
  const match = /bench-time (\d+) ([\d.]+) ([\d.]+) ([\d.]+)/.exec(child.stderr);
  if (!match) throw new Error(`no time line from ${child.stderr.slice(-500)}`);
  return { maxRssMb: Number(match[1]) / 1024, wallS: Number(match[2]), cpuMsPerCall: ((Number(match[3]) + Number(match[4])) * 1000) / calls };
}

/**
 * `veilphone run` of one load step (rate × seconds calls, no hold), its agents registered with `servers`; with
 * `workers`, that many threads place the calls (core/scenario/load-workers.ts) and the main thread keeps the callee.
 */
async function veilphoneLoad(side: string, servers: { udp: string; tcp: string; ws: string }, serverPort: number, workers = 0): Promise<LoadRow> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-bench-load-'));
  try {
    const scenario = path.join(dir, 'load.yaml');
    fs.writeFileSync(
      scenario,
      [
        'name: load bench',
        'timeout: 10m',
        'agents:',
        '  alice: { user: alice, transport: udp, domain: 127.0.0.1 }',
        '  bob: { user: bob, transport: udp, answer: auto, domain: 127.0.0.1 }',
        `server: ${servers.udp}`,
        'steps:',
        '  - register: alice',
        '  - register: bob',
        `  - load: { from: alice, to: bob, id: l1, calls: ${calls}, rate: ${rate}, parallel: ${Math.max(100, Math.min(5000, calls))}, workers: ${workers} }`,
        '',
      ].join('\n'),
    );
    const dataDir = path.join(dir, 'data');
    const report = path.join(dir, 'report.json');
    const capture = await captureLoopback([serverPort]);
    const run = timed(process.execPath, [bin, '--data-dir', dataDir, 'run', scenario, '--report', report, '--quiet', ...serverArgs(servers)], projectRoot);
    const code = await run.exitCode(600_000);
    const wire = await capture.stop();
    if (code !== 0) throw new Error(`veilphone run failed (${code}): ${run.stdout.slice(-1500)} ${run.stderr.slice(-1500)}`);
    const load = (JSON.parse(fs.readFileSync(report, 'utf8')) as { loads: Array<{ established: number; failed: number }> }).loads[0]!;
    return { side, answered: load.established, failed: load.failed, achieved: wireRate(wire, { serverPort, method: 'INVITE' }), setupWire: wireTimes(wire, { serverPort, method: 'INVITE', status: 200 }), ...timeOf(run) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** SIPp UAC → Kamailio → SIPp UAS at the same rate and number of calls. */
async function sippLoad(kamailio: KamailioServer): Promise<LoadRow> {
  const remote = `127.0.0.1:${kamailio.port}`;
  const uasPort = await freePort();
  const uas = startSipp({ scenario: 'uas.xml', localPort: uasPort, calls, rate: 1000, timeoutS: 600 });
  const register = startSipp({ scenario: 'register.xml', remote, localPort: await freePort(), service: 'sipp', calls: 1, rate: 1, keys: { contact_port: String(uasPort), expires: '600' } });
  if ((await register.exitCode(60_000)) !== 0) throw new Error(`SIPp register failed: ${register.stderr}`);
  const capture = await captureLoopback([kamailio.port]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-bench-sipp-'));
  const uac = timed('sipp', [remote, '-sf', uacQuick, '-i', '127.0.0.1', '-p', String(await freePort()), '-t', 'u1', '-s', 'sipp', '-m', String(calls), '-r', String(rate), '-timeout', '600s', '-timeout_error', '-nostdin', '-trace_stat', '-stf', 'stat.csv', '-fd', '1'], dir);
  const code = await uac.exitCode(600_000);
  const wire = await capture.stop();
  await uas.exitCode(30_000).catch(() => uas.stop());
  try {
    const rows = fs.readFileSync(path.join(dir, 'stat.csv'), 'utf8').trim().split('\n').map((line) => line.split(';'));
    const header = rows[0]!;
    const last = rows.at(-1)!;
    const column = (name: string): number => Number(last[header.indexOf(name)]);
    if (code !== 0 && column('FailedCall(C)') === 0) throw new Error(`SIPp UAC failed (${code}): ${uac.stdout.slice(-1500)}`);
    const answered = column('SuccessfulCall(C)');
    return { side: 'SIPp → Kamailio → SIPp', answered, failed: column('FailedCall(C)'), achieved: wireRate(wire, { serverPort: kamailio.port, method: 'INVITE' }), setupWire: wireTimes(wire, { serverPort: kamailio.port, method: 'INVITE', status: 200 }), ...timeOf(uac) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A SIPp-style load (issue 23): `rate` calls per second for `seconds`, no hold, by `veilphone run` (a load step)
 * through `veilphone lab` and through Kamailio, beside SIPp → Kamailio → SIPp at the same rate, in one run.
 */
export async function benchLoad(): Promise<BenchResult> {
  const loadBefore = os.loadavg()[0]!;
  const rows: LoadRow[] = [];
  const lab = await startLabProcess();
  try {
    rows.push(await veilphoneLoad('Veilphone → lab → Veilphone', lab.servers, lab.udp));
    rows.push(await veilphoneLoad('Veilphone, 1 load worker → lab → Veilphone', lab.servers, lab.udp, 1));
  } finally {
    await lab.child.stop();
  }
  const kamailio = await KamailioServer.start();
  try {
    rows.push(await veilphoneLoad('Veilphone → Kamailio → Veilphone', kamailio.servers, kamailio.port));
    rows.push(await veilphoneLoad('Veilphone, 1 load worker → Kamailio → Veilphone', kamailio.servers, kamailio.port, 1));
    rows.push(await sippLoad(kamailio));
  } finally {
    await kamailio.stop();
  }
  const loadAfter = os.loadavg()[0]!;
  const sipp = rows.at(-1)!;
  const table = rows.map((r) => `| ${r.side} | ${r.answered} | ${r.failed} | ${r.achieved.toFixed(1)}/s | ${q(r.setupWire, 0.5)} | ${q(r.setupWire, 0.95)} | ${q(r.setupWire, 0.99)} | ${r.wallS.toFixed(1)} s | ${r.maxRssMb.toFixed(0)} MB | ${r.cpuMsPerCall.toFixed(2)} ms |`);
  const keys = ['loadSetupLab', 'loadSetupLabWorker', 'loadSetupKamailio', 'loadSetupKamailioWorker'];
  const ratios = Object.fromEntries(rows.slice(0, -1).map((r, i) => [keys[i]!, quantile(r.setupWire, 0.5) / quantile(sipp.setupWire, 0.5)]));
  const cpu = Object.fromEntries(rows.slice(0, -1).map((r, i) => [`${keys[i]!.replace('loadSetup', 'loadCpu')}`, r.cpuMsPerCall / sipp.cpuMsPerCall]));
  return {
    title: 'Load: calls per second like SIPp (issue 23)',
    lines: [
      `${calls} calls at ${rate}/s on loopback UDP, each hung up at once when answered. Veilphone: one \`veilphone run\` with a \`load\``,
      'step (caller and callee agents in that process, the call log in its data dir), through `veilphone lab` and through',
      'Kamailio (deploy/kamailio/kamailio.cfg); anchor: SIPp UAC (bench/sipp/uac-quick.xml) → Kamailio → SIPp UAS. Setup: INVITE → 200',
      "on the caller–proxy leg from tcpdump timestamps. Wall, peak RSS and CPU (user + system, per call): GNU time of the caller's",
      "process (`veilphone run`, both agents, with its load workers; SIPp's UAC alone). \"1 load worker\": the calls are placed by a",
      'worker thread (`workers: 1`, core/scenario/load-workers.ts) while the main thread keeps the callee.',
      '',
      '| side | answered | failed | achieved rate | setup p50 | p95 | p99 | wall | peak RSS | CPU per call |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...table,
      '',
      `Setup p50, Veilphone/SIPp: through the lab **${ratios.loadSetupLab!.toFixed(2)}×** (1 worker ${ratios.loadSetupLabWorker!.toFixed(2)}×), through Kamailio **${ratios.loadSetupKamailio!.toFixed(2)}×** (1 worker ${ratios.loadSetupKamailioWorker!.toFixed(2)}×).`,
      `CPU per call, Veilphone (both agents)/SIPp (its UAC): through the lab ${cpu.loadCpuLab!.toFixed(1)}× (1 worker ${cpu.loadCpuLabWorker!.toFixed(1)}×), through Kamailio ${cpu.loadCpuKamailio!.toFixed(1)}× (1 worker ${cpu.loadCpuKamailioWorker!.toFixed(1)}×).`,
      `Machine load (1-minute average) ${loadBefore.toFixed(1)} at the start, ${loadAfter.toFixed(1)} at the end, on 2 cores shared with other work: compare the rows of one run.`,
    ],
    ratios: { ...ratios, ...cpu },
  };
}

function q(values: number[], p: number): string {
  return values.length > 0 ? `${quantile(values, p).toFixed(2)} ms` : '–';
}
