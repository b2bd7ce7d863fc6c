import path from 'node:path';
import { BufferSource, ToneSource } from '../media/audio-frame.js';
import { MediaError } from '../media/media-error.js';
import { PhoneError } from '../api/phone-error.js';
import { readWav, WavFileSink } from '../media/wav-file.js';
import { matchDialRules } from '../privacy/dial-plan.js';
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import type { CallRecorder } from '../calllog/call-recorder.js';
import { agentDataDir } from '../phone/data-dir.js';
import { runLoad, type LoadInterval } from './call-load.js';
import { LoadCaller, type LoadCallerOptions } from './load-caller.js';
import { LoadWorkers } from './load-workers.js';
import { agentCallLimit } from './scenario-agents.js';
import { StepFailure } from './scenario-errors.js';
import { ScenarioExpectations } from './scenario-expectations.js';
import type { ScenarioStep, StepOf } from './scenario-schema.js';
import { agentUser, type AgentRuntime, type CallRuntime, type ScenarioState } from './scenario-state.js';

export interface LoadWorkerSetup {
  /** The worker's entry: the bundled load-worker.mjs, or a loader of the TypeScript sources (cli/load-worker-url.ts). */
  url: URL;
  callLog?: CallRecorder;
  dataDir?: string;
}

/** What each step kind does to the agents (every kind but `expect`, which ScenarioExpectations checks). */
export class ScenarioSteps {
  private readonly expectations: ScenarioExpectations;
  /** Aborted when the run stops a step early (its deadline, its host's Ctrl-C): a load starts no more calls. */
  private readonly stopping = new AbortController();
  /** The load steps going on, until each has reported. */
  private readonly loadsRunning = new Set<Promise<void>>();

  constructor(
    private readonly state: ScenarioState,
    private readonly timers?: SipTimerValues,
    /** Every second of a running `load` step: its counts (`veilphone run --stats`, the progress line). */
    private readonly onLoadInterval?: (load: string, interval: LoadInterval) => void,
    /** Where a load's worker threads come from, and the call log and data dir they write to (load-workers.ts). */
    private readonly loadWorkers?: LoadWorkerSetup,
  ) {
    this.expectations = new ScenarioExpectations(state);
  }

  async execute(step: ScenarioStep): Promise<void> {
    switch (step.kind) {
      case 'register': {
        const registration = await this.state.agent(step.value).phone.register();
        if (registration.state !== 'registered') throw new StepFailure(`${step.value} is ${registration.state}`);
        return;
      }
      case 'unregister':
        await this.state.agent(step.value).phone.unregister();
        return;
      case 'call':
        return this.placeCall(step);
      case 'load': {
        const running = this.runLoadStep(step);
        this.loadsRunning.add(running);
        return running.finally(() => this.loadsRunning.delete(running));
      }
      case 'answer':
        return this.onLeg(step.value, 'callee', (agent, leg) => agent.phone.answer(leg, step.value.others));
      case 'reject':
        return this.onLeg(step.value, 'callee', (agent, leg) => agent.phone.reject(leg, step.value.status));
      case 'hangup':
        return this.onLeg(step.value, 'caller', (agent, leg) => agent.phone.hangup(leg));
      case 'hold':
        return this.onLeg(step.value, 'caller', (agent, leg) => agent.phone.hold(leg, true));
      case 'resume':
        return this.onLeg(step.value, 'caller', (agent, leg) => agent.phone.hold(leg, false));
      case 'transfer':
        return this.onLeg(step.value, 'caller', async (agent, leg) => {
          const { to, replaces } = step.value;
          if (to !== undefined) return agent.phone.transfer(leg, { to: this.dialTarget(agent, to).target });
          const other = this.state.call(replaces!);
          const otherLeg = agent.name === other.from ? other.callerLeg : this.state.calleeLeg(other, agent.name);
          if (otherLeg === undefined) throw new StepFailure(`call ${other.id} has no leg at ${agent.name} to replace`);
          return agent.phone.transfer(leg, { replaces: otherLeg });
        });
      case 'wait':
        await new Promise((resolve) => setTimeout(resolve, step.value));
        return;
      case 'withdraw': {
        // Seed 001 Fig. 8 steps 82, 84: unregister, then the deletion request (the phone's shutdown releases its lease)
        const agent = this.state.agent(step.value);
        await agent.phone.unregister();
        await agent.phone.shutdown();
        return;
      }
      case 'vacate':
        if (!this.state.lab?.household) throw new StepFailure('this lab runs no household building');
        await this.state.lab.household.vacate(step.value);
        return;
      case 'stop_mgc':
        if (!this.state.lab?.stopMgc) throw new StepFailure('this lab has no soft switches to stop');
        await this.state.lab.stopMgc(step.value);
        return;
      case 'play': {
        const { file, tone, loop } = step.value;
        const source = file !== undefined ? this.wavSource(file, loop ?? false) : new ToneSource(tone!);
        return this.onLeg(step.value, 'caller', async (agent, leg) => (await this.state.media(agent, leg)).play(source));
      }
      case 'record': {
        const file = this.resolvePath(step.value.file);
        return this.onLeg(step.value, 'caller', async (agent, leg) => {
          const media = await this.state.media(agent, leg);
          try {
            media.addSink(new WavFileSink(file));
          } catch (error) {
            throw new StepFailure((error as MediaError).message);
          }
        });
      }
      case 'dtmf':
        return this.onLeg(step.value, 'caller', (agent, leg) => agent.phone.sendDtmf(leg, step.value.digits, step.value.method));
      case 'expect':
        return this.expectations.check(step);
    }
  }

  /** What `caller` dials for `to`: an agent's name becomes its user (or full address in another domain). */
  private dialTarget(caller: AgentRuntime, to: string): { target: string; calleeAgent?: string } {
    // `to` may carry a dial prefix (184bob): the callee is whoever the rest names.
    const { rest, rule } = matchDialRules(to);
    const agents = this.state.agents;
    const calleeAgent = agents.has(rest) ? rest : [...agents.values()].find((a) => agentUser(a) === rest)?.name;
    if (calleeAgent === undefined) return { target: to };
    const callee = this.state.agent(calleeAgent);
    const calleeDomain = this.state.domainOf(callee);
    // An agent in another domain is dialled by its full address (the dial prefix stays in front of the user).
    const elsewhere = calleeDomain !== undefined && calleeDomain !== this.state.domainOf(caller);
    const user = agentUser(callee);
    return { target: elsewhere ? `sip:${rule?.prefix ?? ''}${user}@${calleeDomain}` : `${rule?.prefix ?? ''}${user}`, calleeAgent };
  }

  private async placeCall(step: StepOf<'call'>): Promise<void> {
    const { from, to, id, anonymity, level } = step.value;
    const caller = this.state.agent(from);
    const { target, calleeAgent } = this.dialTarget(caller, to);
    const snapshot = await caller.phone.call({ target, ...(anonymity !== undefined ? { anonymity } : {}), ...(level !== undefined ? { anonymityLevel: level } : {}) });
    if (!this.state.snapshots.has(snapshot.id)) this.state.snapshots.set(snapshot.id, snapshot); // its events may have come first
    const call: CallRuntime = { id, from, to, callerLeg: snapshot.id };
    if (calleeAgent !== undefined) call.calleeAgent = calleeAgent;
    this.state.calls.set(id, call);
  }

  /**
   * The run stopped the step going on (its deadline passed, or its host was told to stop): a load starts no more calls,
   * puts what it did in the report (`unfinished`: its calls still going, which the run's end hangs up) and stops its
   * worker threads. Resolves once every load has.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.loadsRunning]);
  }

  /**
   * SPEC G: `calls` calls (or calls for `duration`) at `rate` per second, at most `parallel` at once
   * (core/scenario/call-load.ts). Each call waits for its answer or its end (up to 64·T1, Timer B), is held `hold`
   * when answered, and is hung up by the caller. Every second the load's counts go to `onLoadInterval` (the stats
   * file and progress line); the outcome goes to the report's `loads`; `expect: { load: {...} }` checks it.
   */
  private async runLoadStep(step: StepOf<'load'>): Promise<void> {
    const { from, to, id, calls, duration, rate, parallel, hold, anonymity, workers } = step.value;
    const caller = this.state.agent(from);
    const { target } = this.dialTarget(caller, to);
    const callerOptions: LoadCallerOptions = { target, holdMs: hold, settleMs: 64 * (this.timers?.t1 ?? 500), ...(anonymity !== undefined ? { anonymity } : {}) };
    const plan = { ...(calls !== undefined ? { calls } : {}), ...(duration !== undefined ? { durationMs: duration } : {}), rate, parallel };
    const onInterval = this.onLoadInterval;
    const intervals = { stop: this.stopping.signal, ...(onInterval ? { onInterval: (interval: LoadInterval) => onInterval(id, interval) } : {}) };
    let summary;
    this.state.loading = true; // the calls that start from here on are the load's (ScenarioState.noteCall)
    try {
      if (workers === 0) {
        const loadCaller = new LoadCaller(caller.phone, callerOptions);
        try {
          summary = await runLoad(plan, (_index, progress) => loadCaller.place(progress), intervals);
        } finally {
          loadCaller.close();
        }
      } else {
        const pool = await this.startLoadWorkers(caller, workers, callerOptions);
        this.state.loadWorkerPools.add(pool);
        try {
          if (this.stopping.signal.aborted) throw new StepFailure('stopped while its worker threads started');
          summary = await runLoad(plan, (index, progress) => pool.place(index, progress), intervals);
        } finally {
          await pool.stop();
          this.state.loadWorkerPools.delete(pool);
        }
      }
    } finally {
      this.state.loading = false;
    }
    this.state.loads.push({ id, from, to, plan: { ...plan, holdMs: hold, ...(workers > 0 ? { workers } : {}) }, ...summary });
  }

  /**
   * The threads of a load with `workers` (load-workers.ts), each with a phone of the calling agent's account and its
   * share of `parallel`. The agent's account must be plain settings: a lease from DHCP or a household allocation
   * belongs to the agent's own phone and cannot be shared.
   */
  private async startLoadWorkers(caller: AgentRuntime, workers: number, callerOptions: LoadCallerOptions): Promise<LoadWorkers> {
    const setup = this.loadWorkers;
    if (setup === undefined) throw new StepFailure('this host cannot run load workers (run the scenario with veilphone run)');
    if (caller.provisioned || caller.household) throw new StepFailure(`load workers cannot share ${caller.name}'s ${caller.provisioned ? 'DHCP lease' : 'household allocation'}: give the load no workers`);
    const data = Array.from({ length: workers }, (_, k) => ({
      account: caller.account,
      // the load's `parallel` bounds the calls; each phone may take them all, as when the others died
      maxCalls: agentCallLimit(this.state.scenario),
      caller: callerOptions,
      ...(this.timers ? { timers: this.timers } : {}),
      ...(setup.dataDir !== undefined ? { dataDir: agentDataDir(setup.dataDir, `${caller.name}.load-worker-${k + 1}`) } : {}),
    }));
    try {
      return await LoadWorkers.start(setup.url, data, setup.callLog);
    } catch (error) {
      throw new StepFailure((error as Error).message);
    }
  }

  private resolvePath(file: string): string {
    return path.resolve(this.state.scenario.baseDir ?? process.cwd(), file);
  }

  private wavSource(file: string, loop: boolean): BufferSource {
    try {
      const audio = readWav(this.resolvePath(file));
      return new BufferSource(audio.samples, `${file} (${audio.format})`, loop);
    } catch (error) {
      throw new StepFailure(error instanceof MediaError ? error.message : `cannot play ${file}: ${(error as Error).message}`);
    }
  }

  /** Act on one leg of a call: the caller's unless `by` names another agent (then that agent's incoming leg). */
  private async onLeg(value: { call: string; by?: string | undefined }, defaultSide: 'caller' | 'callee', act: (agent: AgentRuntime, leg: string) => Promise<void>): Promise<void> {
    const call = this.state.call(value.call);
    const byName = value.by ?? (defaultSide === 'caller' ? call.from : call.calleeAgent);
    if (byName === undefined) throw new StepFailure(`call ${call.id}: name the callee's agent with "by"`);
    const leg = byName === call.from ? call.callerLeg : await this.state.waitFor(() => this.state.calleeLeg(call, byName), this.state.defaultWithinMs, () => `no incoming call for ${call.id} at ${byName}`);
    try {
      await act(this.state.agent(byName), leg);
    } catch (error) {
      // the phone names its own leg id, which the scenario never wrote: say it with the scenario's name of the call
      if (error instanceof PhoneError && error.code === 'UNKNOWN_CALL' && error.message.includes(leg)) throw new StepFailure(`call ${call.id} has no active leg at ${byName} (it ended)`);
      throw error;
    }
  }
}
