import { PhoneError } from '../api/phone-error.js';
import type { CallLogStore } from '../calllog/call-log-store.js';
import { defaultMediaProvider, mediaWithoutRecentAudio } from '../phone/default-media.js';
import type { MediaFactoryProvider } from '../phone/media-factory.js';
import type { SipSockets } from '../sip/transport/sip-sockets.js';
import { defaultSipTimers, type SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import type { LoadInterval } from './call-load.js';
import { callReport } from './call-report.js';
import { checksAudio } from './checks-audio.js';
import { labRequest, type LabHandle, type LabRequest } from './lab-handle.js';
import { agentReport, startAgent } from './scenario-agents.js';
import { ScenarioEnvironmentError, StepFailure } from './scenario-errors.js';
import type { ScenarioReport, StepReport } from './scenario-report.js';
import type { Scenario } from './scenario-schema.js';
import { ScenarioState } from './scenario-state.js';
import { ScenarioSteps } from './scenario-steps.js';

export interface ScenarioRunnerOptions {
  startLab?: (request: LabRequest) => Promise<LabHandle>;
  /**
   * The agents' media. Unless told, plain RTP that keeps received audio (2 s a call) only for a scenario with a step
   * that checks it (checks-audio.ts).
   */
  createSessionDescriptionHandlerFactory?: MediaFactoryProvider;
  callLog?: CallLogStore;
  timers?: SipTimerValues;
  /** Where each agent keeps its persistent state (`agents/NAME` inside): the ownership journal of one-time addresses. */
  dataDir?: string;
  /** Default wait of an `expect` without `within`. */
  defaultWithinMs?: number;
  onProgress?: (step: StepReport) => void;
  /** Every second of a running `load` step, its counts (core/scenario/call-load.ts). */
  onLoadInterval?: (load: string, interval: LoadInterval) => void;
  /**
   * The entry of a `load` step's worker threads (core/scenario/load-worker.ts as the host runs it: bundled, or through
   * a loader of the sources); without it a load with `workers` fails.
   */
  loadWorkerUrl?: URL;
  /** Where the agents' SIP sockets come from: the OS's by default, an in-memory network (shared with the lab) in unit tests. */
  sockets?: SipSockets;
  /** How many messages each agent's trace keeps (agent-trace.ts; 20,000 unless told). */
  traceLimit?: number;
  /**
   * Stops the run (the host's SIGINT, as SIPp stops on Ctrl-C): the step going on fails as interrupted (the signal's
   * reason says by what), the rest are not run, and the run ends as after a failure — calls hung up, agents
   * unregistered, the report written.
   */
  signal?: AbortSignal;
}

/**
 * Runs a scenario against real sockets: agents are Phones (scenario-agents.ts), the lab (when asked) is started by the
 * host (lab-handle.ts); each step acts (scenario-steps.ts) or checks (scenario-expectations.ts) within the run's
 * deadline, and the report gathers what the run saw (call-report.ts, scenario-report.ts).
 */
export class ScenarioRunner {
  private readonly state: ScenarioState;
  private readonly steps: ScenarioSteps;

  constructor(
    private readonly scenario: Scenario,
    private readonly options: ScenarioRunnerOptions,
  ) {
    this.state = new ScenarioState(scenario, options.defaultWithinMs ?? 5000);
    const loadWorkers = options.loadWorkerUrl ? { url: options.loadWorkerUrl, ...(options.callLog ? { callLog: options.callLog } : {}), ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}) } : undefined;
    this.steps = new ScenarioSteps(this.state, options.timers, options.onLoadInterval, loadWorkers);
  }

  async run(): Promise<ScenarioReport> {
    const started = Date.now();
    const report: ScenarioReport = { ok: false, startedAt: new Date(started).toISOString(), durationMs: 0, steps: [], calls: [], agents: {} };
    if (this.scenario.name !== undefined) report.name = this.scenario.name;
    try {
      await this.setUp();
      let failed = false;
      const deadline = started + (this.scenario.timeoutMs ?? defaultScenarioTimeoutMs);
      const signal = this.options.signal;
      for (const [index, step] of this.scenario.steps.entries()) {
        if (failed || signal?.aborted) {
          report.steps.push({ index, step: step.text, ok: false, ms: 0, reason: signal?.aborted ? 'not run: the run was interrupted' : 'not run: an earlier step failed' });
          failed = true;
          continue;
        }
        const stepStart = Date.now();
        try {
          await bounded(this.steps.execute(step), deadline, () => `the scenario's timeout of ${this.scenario.timeoutMs ?? defaultScenarioTimeoutMs} ms ran out during this step`, signal);
          report.steps.push({ index, step: step.text, ok: true, ms: Date.now() - stepStart });
        } catch (error) {
          failed = true;
          // a step cut short by the deadline or the host may have left a load going: it stops and reports first
          await this.steps.stop();
          const reason = error instanceof StepFailure || error instanceof PhoneError ? error.message : `unexpected error: ${(error as Error).message}`;
          report.steps.push({ index, step: step.text, ok: false, ms: Date.now() - stepStart, reason });
        }
        this.options.onProgress?.(report.steps[report.steps.length - 1]!);
      }
      report.ok = !failed;
    } catch (error) {
      report.error = (error as Error).message;
      if (!(error instanceof ScenarioEnvironmentError)) throw error;
    } finally {
      await this.tearDown(report);
      report.durationMs = Date.now() - started;
    }
    if (report.error !== undefined) throw Object.assign(new ScenarioEnvironmentError(report.error), { report });
    return report;
  }

  private async setUp(): Promise<void> {
    let servers = this.scenario.server ?? {};
    let domain = this.scenario.domain;
    if (this.scenario.lab) {
      if (!this.options.startLab) throw new ScenarioEnvironmentError('this host cannot start an embedded lab');
      try {
        this.state.lab = await this.options.startLab(labRequest(this.scenario, this.scenario.lab));
      } catch (error) {
        throw new ScenarioEnvironmentError(`the embedded lab failed to start: ${(error as Error).message}`);
      }
      servers = this.state.lab.servers;
      domain ??= this.state.lab.domain;
    }
    const traceLimit = this.scenario.traceLimit ?? this.options.traceLimit; // the scenario's own, else the host's
    for (const [name, spec] of Object.entries(this.scenario.agents)) {
      const agent = await startAgent(this.state, name, spec, servers, domain, {
        createSessionDescriptionHandlerFactory: this.options.createSessionDescriptionHandlerFactory ?? (checksAudio(this.scenario) ? defaultMediaProvider : mediaWithoutRecentAudio),
        ...(this.options.callLog ? { callLog: this.options.callLog } : {}),
        ...(this.options.timers ? { timers: this.options.timers } : {}),
        ...(this.options.dataDir !== undefined ? { dataDir: this.options.dataDir } : {}),
        ...(this.options.sockets ? { sockets: this.options.sockets } : {}),
        ...(traceLimit !== undefined ? { traceLimit } : {}),
      });
      this.state.agents.set(name, agent);
    }
  }

  private async tearDown(report: ScenarioReport): Promise<void> {
    const agents = [...this.state.agents.values()];
    const problems: string[] = [];
    const note = (what: string) => (result: PromiseSettledResult<unknown>) => {
      if (result.status === 'rejected') problems.push(`${what}: ${(result.reason as Error).message}`);
    };
    // a load cut by the timeout: its threads hang up their calls and shut their phones down, as the agents do
    note('a load worker did not stop')((await Promise.allSettled([Promise.all([...this.state.loadWorkerPools].map((pool) => pool.stop()))]))[0]!);
    // a BYE an agent just sent reaches its peer before the peer's shutdown could send one of its own (no crossed BYEs)
    const byeGraceMs = 8 * (this.options.timers?.t1 ?? defaultSipTimers.t1);
    await Promise.allSettled(agents.map((a) => a.phone.byesAnswered(byeGraceMs)));
    // Calls still up: their callers hang up first, and their BYEs are answered before any callee shuts down. Both ends of
    // a call between two agents hanging up at once sent crossed BYEs, each answered 481 (the outsider review).
    await Promise.allSettled(agents.map(async (a) => Promise.allSettled((await a.phone.snapshot()).calls.filter((c) => c.direction === 'outgoing' && c.state !== 'terminated').map((c) => a.phone.hangup(c.id)))));
    await Promise.allSettled(agents.map((a) => a.phone.byesAnswered(byeGraceMs)));
    (await Promise.allSettled(agents.map((a) => a.phone.shutdown()))).forEach((result, i) => note(`agent ${agents[i]!.name} did not shut down`)(result));
    (await Promise.allSettled(agents.map((a) => a.provisioned?.release()))).forEach((result, i) => note(`agent ${agents[i]!.name} did not give its lease back`)(result));
    for (const call of this.state.calls.values()) report.calls.push(callReport(this.state, call));
    if (this.state.loads.length > 0) report.loads = this.state.loads;
    for (const agent of agents) report.agents[agent.name] = agentReport(agent);
    const lab = this.state.lab;
    if (lab) {
      report.lab = lab.snapshot();
      note('the lab did not stop')((await Promise.allSettled([lab.stop()]))[0]!);
    }
    if (problems.length > 0) report.teardownProblems = problems;
  }
}

/** A run without `timeout:` still ends by itself (every run is bounded). */
export const defaultScenarioTimeoutMs = 10 * 60_000;

/** A step's work, failed when the run's deadline passes (`message` says so) or `signal` stops the run first. */
function bounded<T>(work: Promise<T>, deadline: number, message: () => string, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepFailure(message())), Math.max(0, deadline - Date.now()));
    onAbort = () => reject(new StepFailure(`interrupted${signal?.reason !== undefined ? ` (${String(signal.reason)})` : ''}`));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, expired]).finally(() => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort!);
  });
}

export function runScenario(scenario: Scenario, options: ScenarioRunnerOptions): Promise<ScenarioReport> {
  return new ScenarioRunner(scenario, options).run();
}
