import fs from 'node:fs';
import path from 'node:path';
import { CallLogStore } from '../core/calllog/call-log-store.js';
import { callLogPath, prepareDataDir } from '../core/phone/data-dir.js';
import { loadScenarioFile, ScenarioError } from '../core/scenario/load-scenario.js';
import { withServers } from '../core/scenario/with-servers.js';
import { toJUnit, type ScenarioReport } from '../core/scenario/scenario-report.js';
import { ScenarioEnvironmentError } from '../core/scenario/scenario-errors.js';
import { runScenario } from '../core/scenario/scenario-runner.js';
import { exitCodes } from './exit-codes.js';
import { rateShortfall } from '../core/scenario/call-load.js';
import { LoadProgress } from './load-progress.js';
import { loadWorkerUrl } from './load-worker-url.js';
import { LoadStatsFile } from './load-stats-file.js';
import { writeJsonFile } from './report-file.js';
import { leaveLean, modestLoadRate } from './lean-start.js';

export interface RunCommandOptions {
  report?: string;
  /** SIP server URIs replacing the scenario's `lab`/`server`, one per transport. */
  server?: string[];
  junit?: string;
  quiet?: boolean;
  /** Per-interval statistics of every `load` step, as CSV (like SIPp's -trace_stat). */
  stats?: string;
  dataDir: string;
}

/** `veilphone run SCENARIO`. */
export async function runCommand(file: string, options: RunCommandOptions): Promise<void> {
  let scenario;
  try {
    scenario = loadScenarioFile(file);
  } catch (error) {
    if (error instanceof ScenarioError) {
      console.error(`veilphone run: invalid scenario: ${error.message}`);
      process.exit(exitCodes.invalid);
    }
    throw error;
  }
  // a load runs hot code for long, in worker threads too: V8 as usual from its start, favouring memory when every load
  // is modest (cli/lean-start.js)
  const loads = scenario.steps.flatMap((step) => (step.kind === 'load' ? [step.value] : []));
  if (loads.length > 0) leaveLean(process.env, { favourMemory: loads.every((load) => load.rate <= modestLoadRate && load.workers === 0) });
  if (options.server) {
    try {
      scenario = withServers(scenario, options.server);
    } catch (error) {
      console.error(`veilphone run: ${(error as Error).message}`);
      process.exit(exitCodes.invalid);
    }
  }
  let callLog: CallLogStore;
  try {
    prepareDataDir(options.dataDir);
    callLog = CallLogStore.open(callLogPath(options.dataDir));
  } catch (error) {
    console.error(`veilphone run: ${(error as Error).message}`);
    process.exit(exitCodes.environment);
  }
  // the report files can be written: found out now, not after a long load (SIPp opens its files at start too)
  for (const [what, file] of [['report', options.report], ['JUnit report', options.junit]] as const) {
    if (file === undefined) continue;
    try {
      assertWritable(file);
    } catch (error) {
      console.error(`veilphone run: cannot write the ${what} ${file}: ${(error as Error).message}`);
      process.exit(exitCodes.environment);
    }
  }
  let stats: LoadStatsFile | undefined;
  try {
    if (options.stats !== undefined) stats = new LoadStatsFile(options.stats);
  } catch (error) {
    console.error(`veilphone run: cannot write the stats file: ${(error as Error).message}`);
    process.exit(exitCodes.environment);
  }
  const progress = new LoadProgress(process.stdout, !options.quiet && process.stdout.isTTY === true);
  // Ctrl-C (or a TERM) ends the run as a failed step would: calls hung up, agents unregistered, reports written, exit 1.
  // A second signal, of either kind, ends the process at once, by that signal.
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!interrupt.signal.aborted) return interrupt.abort(signal);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.kill(process.pid, signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let report: ScenarioReport;
  try {
    report = await runScenario(scenario, {
      signal: interrupt.signal,
      // the embedded lab (proxy, registrar, conversion, signing, household…) is loaded only by a scenario that asks for it
      startLab: async (request) => (await import('./scenario-lab.js')).startLabForScenario(request),
      callLog,
      loadWorkerUrl: loadWorkerUrl(),
      dataDir: options.dataDir,
      onProgress: (step) => {
        progress.end();
        if (!options.quiet) console.log(`${step.ok ? 'ok  ' : 'FAIL'} ${String(step.index + 1).padStart(3)} ${step.step}${step.ok ? '' : `\n     ${step.reason}`}`);
      },
      onLoadInterval: (load, interval) => {
        stats?.write(load, interval);
        progress.update(load, interval);
      },
    });
  } catch (error) {
    progress.end();
    stats?.close();
    callLog.close();
    if (error instanceof ScenarioEnvironmentError) {
      const partial = (error as ScenarioEnvironmentError & { report?: ScenarioReport }).report;
      if (partial) reportsWritten(partial, options);
      console.error(`veilphone run: environment failure: ${error.message}`);
      process.exit(exitCodes.environment);
    }
    throw error;
  }
  stats?.close();
  callLog.close();
  const written = reportsWritten(report, options);
  // A load that fell behind its asked rate says so, even with --quiet: a slower run is never a silent one.
  for (const load of report.loads ?? []) {
    const shortfall = rateShortfall(load.id, load);
    if (shortfall !== undefined) console.log(`WARN ${shortfall}`);
  }
  const failed = report.steps.find((s) => !s.ok);
  console.log(report.ok ? `PASS ${file}: ${report.steps.length} steps in ${report.durationMs} ms` : `FAIL ${file}: step ${failed!.index + 1} (${failed!.step}): ${failed!.reason}`);
  process.exit(!written ? exitCodes.environment : report.ok ? exitCodes.ok : exitCodes.failed);
}

/** Write the report files asked for; a file that cannot be written is named, and the others are still written. */
function reportsWritten(report: ScenarioReport, options: RunCommandOptions): boolean {
  let written = true;
  const attempt = (what: string, file: string | undefined, write: (file: string) => void): void => {
    if (file === undefined) return;
    try {
      write(file);
    } catch (error) {
      written = false;
      console.error(`veilphone run: cannot write the ${what} ${file}: ${(error as Error).message}`);
    }
  };
  attempt('report', options.report, (f) => writeJsonFile(f, report));
  attempt('JUnit report', options.junit, (f) => writeFile(f, toJUnit(report)));
  return written;
}

/** Make the file's folder and open it for appending (creating it, leaving what it holds): throws what writing would. */
function assertWritable(file: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.closeSync(fs.openSync(file, 'a'));
}

function writeFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, text);
}

