import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from '../test/support/child.js';
import { freePort } from '../test/support/free-port.js';
import { labPairScenario } from '../test/support/lab-scenario-text.js';
import { projectRoot } from '../test/support/veilphone-cli.js';
import { buildCliBundle, freshBundle } from '../tools/cli-bundle/cli-bundle.js';
import { median, type BenchResult } from './bench-result.js';
import { timeCommand, type CommandTime } from './gnu-time.js';
import { modestLoadRate } from '../cli/lean-start.js';

const runs = Number(process.env.BENCH_MEMORY_RUNS ?? 3);
const parallel = 100;
const holdS = 4;
const calls = 300;
const rate = 50;
/** The sustained run: 100 calls at once for about two minutes, well past the 32 s sip.js keeps an ended call's INVITE transaction. */
const sustainedCalls = 3000;
const bin = path.join(projectRoot, 'bin/veilphone.js');


/**
 * Issue 23's memory target: the peak resident memory of `veilphone run` holding 100 calls at once (both agents and the
 * embedded lab in the process, RTP flowing both ways), beside SIPp's UAC holding 100 calls (no media) to SIPp's UAS.
 * Also the same run under V8's `--optimize-for-size`, to show what memory the CPU would buy.
 */
export async function benchMemory(): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-bench-memory-'));
  try {
    const scenarioOf = (count: number): string => {
      const file = path.join(dir, `concurrent-${count}.yaml`);
      const load = `load: { from: alice, to: bob, id: l1, rate: ${rate}, calls: ${count}, parallel: ${parallel}, hold: ${holdS}s }`;
      fs.writeFileSync(file, labPairScenario([load, `expect: { load: { id: l1, established: ${count}, max_failed: 0 } }`], ['name: 100 concurrent calls', 'timeout: 5m']));
      return file;
    };
    const scenario = scenarioOf(calls);
    if (!freshBundle()) await buildCliBundle();
    // the report is written too: an agent's trace goes to it from disk (core/scenario/agent-trace.ts)
    const ours = async (env: NodeJS.ProcessEnv = {}, file = scenario): Promise<CommandTime> => timeCommand(process.execPath, [bin, '--data-dir', fs.mkdtempSync(path.join(dir, 'data-')), 'run', file, '--quiet', '--report', path.join(dir, 'report.json')], projectRoot, env);
    const sipp = async (count = calls): Promise<CommandTime> => {
      const uasPort = await freePort();
      const uas = Child.start('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-m', String(count), '-timeout', '300s', '-nostdin'], { cwd: dir });
      try {
        return await timeCommand('sipp', [`127.0.0.1:${uasPort}`, '-sn', 'uac', '-i', '127.0.0.1', '-p', String(await freePort()), '-m', String(count), '-r', String(rate), '-l', String(parallel), '-d', String(holdS * 1000), '-timeout', '300s', '-timeout_error', '-nostdin'], dir);
      } finally {
        await uas.exitCode(30_000).catch(() => uas.stop());
      }
    };
    const plain: CommandTime[] = [];
    const usual: CommandTime[] = [];
    const anchor: CommandTime[] = [];
    for (let i = 0; i < runs; i++) {
      plain.push(await ours());
      usual.push(await ours({ VEILPHONE_LEAN_START: '0' }));
      anchor.push(await sipp());
    }
    const sustained = await ours({}, scenarioOf(sustainedCalls));
    const sustainedAnchor = await sipp(sustainedCalls);
    const rss = median(plain.map((s) => s.maxRssMb));
    const usualRss = median(usual.map((s) => s.maxRssMb));
    const sippRss = median(anchor.map((s) => s.maxRssMb));
    const cpu = median(plain.map((s) => s.cpuS));
    const usualCpu = median(usual.map((s) => s.cpuS));
    return {
      title: 'Memory at 100 calls at once (issue 23)',
      lines: [
        `${runs} runs each, alternating. Veilphone: \`veilphone run\` of a \`load\` of ${calls} calls, ${rate}/s, at most ${parallel} at once, each held ${holdS} s`,
        '(both agents and the embedded lab in one process, G.711 RTP both ways); anchor: SIPp\'s built-in `uac` holding as many',
        `(\`-l ${parallel} -d ${holdS * 1000}\`, no media) to SIPp's \`uas\`. GNU time: peak RSS and CPU (user + system) of the process.`,
        '',
        '| measure | Veilphone median | SIPp median | ratio | target |',
        '| --- | --- | --- | --- | --- |',
        `| peak RSS (runs: ${plain.map((s) => s.maxRssMb.toFixed(0)).join(', ')} MB) | ${rss.toFixed(0)} MB | ${sippRss.toFixed(0)} MB | ${(rss / sippRss).toFixed(2)}× | ≤ 150 MB: ${rss <= 150 ? 'met' : 'not met'} |`,
        `| peak RSS, V8 as usual (\`VEILPHONE_LEAN_START=0\`; runs: ${usual.map((s) => s.maxRssMb.toFixed(0)).join(', ')} MB) | ${usualRss.toFixed(0)} MB | | ${(usualRss / sippRss).toFixed(2)}× | |`,
        `| peak RSS, sustained: ${sustainedCalls} calls (about ${Math.round(sustainedCalls / (parallel / holdS))} s at 100 at once; one run each; CPU ${sustained.cpuS.toFixed(1)} s, SIPp ${sustainedAnchor.cpuS.toFixed(1)} s) | ${sustained.maxRssMb.toFixed(0)} MB | ${sustainedAnchor.maxRssMb.toFixed(0)} MB | ${(sustained.maxRssMb / sustainedAnchor.maxRssMb).toFixed(2)}× | ≤ 150 MB: ${sustained.maxRssMb <= 150 ? 'met' : 'not met'} |`,
        `| CPU, whole run | ${cpu.toFixed(2)} s | ${median(anchor.map((s) => s.cpuS)).toFixed(2)} s | | V8 as usual: ${usualCpu.toFixed(2)} s (the default run takes ${(cpu / usualCpu).toFixed(2)}×) |`,
        '',
        `A load of at most ${modestLoadRate} calls/s without worker threads favours memory (cli/lean-start.js): V8 runs with`,
        "`--optimize-for-size` (its full collections also shrink the heap and the old generation is collected sooner) and",
        'keeps its young generation at its first size, 1 MB a semi-space, for more CPU. Measured by hand on 2026-12-06, the',
        'sustained run: `--optimize-for-size` alone peaked at 160-164 MB, with the young generation kept too at 136-138 MB,',
        'for 1.17× the CPU (53-56 s against 44-47 s; 6,088 scavenges against 1,397). A faster load runs V8 as usual (at',
        '300 calls/s `--optimize-for-size` cost 30 % more CPU and calls failed). `VEILPHONE_LEAN_START=0` turns the choice off.',
        '',
        'Where it goes, V8 as usual (measured by hand on 2026-12-05, heap snapshots and /proc/self/smaps at the peak): the JS heap',
        "holds about 30 MB live; the rest of the peak is garbage not yet collected (V8's young generation grown to 2 × 16 MB,",
        "the old generation's slack), about 13 MB of malloc'd memory and Node's own binary, 40 MB. The median was 180 MB before",
        'three changes, not measured one by one: the bundle no longer wraps every function in `__name` (esbuild\'s keepNames',
        'gave each closure made at run time a property array of its own), a run keeps received audio (2 s, 32 KB a media',
        'session) only when a step checks it (core/scenario/checks-audio.ts), and an ended call lets go of its media session',
        "while sip.js keeps its transactions. Off-heap ArrayBuffer memory at the peak (process.memoryUsage) fell from 23-28 MB",
        "to about 1 MB, and malloc'd memory from 35 to 13 MB. Runs spread by up to 20 MB (when V8 happens to collect).",
        '',
        'The sustained run shows what a long load holds. sip.js keeps an ended call\'s INVITE transaction 64·T1 (32 s, RFC 6026',
        '§7.1), so at 25 calls/s about 800 ended calls are held beside the 100 going on. Until 2026-12-06 each was held whole',
        "(its session, media handler and the phone's call, through the transaction's delegates), every agent's 20,000 newest",
        "messages were in memory, and the run kept every call's last snapshot: a run of 6000 calls at 50/s, 100 at once, peaked",
        'at 278 MB (measured by hand). With those fixed (core/sip/finished-session.ts, core/scenario/agent-trace.ts,',
        "ScenarioState.noteCall) it peaked at 189 MB, its heap steady at about 63 MB from 45 s to 100 s (no growth). What the",
        "heap holds beyond the short run is mostly the lingering transactions' own state (the INVITE, its dialog, the last",
        "responses: about 20 MB at 50 calls/s) and the embedded lab's, in the same process. Since 2026-12-06 an",
        "ended call's transactions also let go of its dialogs and last responses (core/sip/finished-session.ts, tools/postinstall/sipjs-ack-timeout-after-bye.js):",
        'the sustained run\'s live heap at 80 s went from 44.7 to 42.4-42.9 MB, and it holds only the 200 live calls\' dialogs (1,600 before).',
        '',
        `Machine load (1-minute average) ${os.loadavg()[0]!.toFixed(1)} at the end, on 2 cores shared with other work.`,
      ],
      ratios: { concurrentRss: rss / sippRss, concurrentRssV8AsUsual: usualRss / sippRss, sustainedRss: sustained.maxRssMb / sustainedAnchor.maxRssMb },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
