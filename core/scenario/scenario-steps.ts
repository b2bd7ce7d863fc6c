import path from 'node:path';
import type { CallSnapshot } from '../api/phone-types.js';
import { BufferSource, ToneSource } from '../media/audio-frame.js';
import { MediaError } from '../media/media-error.js';
import { readWav, WavFileSink } from '../media/wav-file.js';
import { matchDialRules } from '../privacy/dial-plan.js';
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import { runLoad, type LoadCallOutcome, type LoadCallProgress, type LoadInterval } from './call-load.js';
import { StepFailure } from './scenario-errors.js';
import { ScenarioExpectations } from './scenario-expectations.js';
import type { ScenarioStep, StepOf } from './scenario-schema.js';
import { agentUser, type AgentRuntime, type CallRuntime, type ScenarioState } from './scenario-state.js';

/** What each step kind does to the agents (every kind but `expect`, which ScenarioExpectations checks). */
export class ScenarioSteps {
  private readonly expectations: ScenarioExpectations;

  constructor(
    private readonly state: ScenarioState,
    private readonly timers?: SipTimerValues,
    /** Every second of a running `load` step: its counts (`veilphone run --stats`, the progress line). */
    private readonly onLoadInterval?: (load: string, interval: LoadInterval) => void,
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
      case 'load':
        return this.runLoadStep(step);
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
   * SPEC G: `calls` calls (or calls for `duration`) at `rate` per second, at most `parallel` at once
   * (core/scenario/call-load.ts). Each call waits for its answer or its end (up to 64·T1, Timer B), is held `hold`
   * when answered, and is hung up by the caller. Every second the load's counts go to `onLoadInterval` (the stats
   * file and progress line); the outcome goes to the report's `loads`; `expect: { load: {...} }` checks it.
   */
  private async runLoadStep(step: StepOf<'load'>): Promise<void> {
    const { from, to, id, calls, duration, rate, parallel, hold, anonymity } = step.value;
    const caller = this.state.agent(from);
    const { target } = this.dialTarget(caller, to);
    const settleMs = 64 * (this.timers?.t1 ?? 500);
    const snapshots = this.state.snapshots;
    const placeOne = async (_index: number, progress: LoadCallProgress): Promise<LoadCallOutcome> => {
      const placed = await caller.phone.call({ target, ...(anonymity !== undefined ? { anonymity } : {}) });
      if (!snapshots.has(placed.id)) snapshots.set(placed.id, placed); // events may have come first
      const current = (): CallSnapshot => snapshots.get(placed.id) ?? placed;
      try {
        // Not settled within 64·T1 is an outcome of the load (counted as not established), not a failure of the step.
        const settled = await this.state.waitFor(() => (['established', 'terminated'].includes(current().state) ? current() : undefined), settleMs, () => 'no answer').catch(() => undefined);
        if (settled?.state !== 'established') {
          // a hang-up refused because the call ended meanwhile leaves it ended all the same
          if (settled === undefined) await caller.phone.hangup(placed.id).catch(() => undefined);
          // sip.js may end the session just before it hands over the final response (sip-call.ts): give it a moment,
          // then take the call as it is
          const ended = await this.state.waitFor(() => (current().status !== undefined ? current() : undefined), 1000, () => 'no status').catch(() => current());
          return { established: false, ...(ended.status !== undefined ? { status: ended.status } : {}) };
        }
        progress.answered(settled.setupMs);
        if (hold > 0) await new Promise((resolve) => setTimeout(resolve, hold));
        // The callee may have hung up first; and a call that does not end within 64·T1 was established all the same.
        await caller.phone.hangup(placed.id).catch(() => undefined);
        await this.state.waitFor(() => (current().state === 'terminated' ? true : undefined), settleMs, () => 'no end').catch(() => undefined);
        return { established: true, status: settled.status ?? 200, ...(settled.setupMs !== undefined ? { setupMs: settled.setupMs } : {}) };
      } finally {
        // a load keeps counts, not calls: a million calls must not hold a million snapshots
        snapshots.delete(placed.id);
      }
    };
    const plan = { ...(calls !== undefined ? { calls } : {}), ...(duration !== undefined ? { durationMs: duration } : {}), rate, parallel };
    const onInterval = this.onLoadInterval;
    const summary = await runLoad(plan, placeOne, onInterval ? { onInterval: (interval) => onInterval(id, interval) } : {});
    this.state.loads.push({ id, from, to, plan: { ...plan, holdMs: hold }, ...summary });
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
    if (byName === call.from) return act(this.state.agent(call.from), call.callerLeg);
    const leg = await this.state.waitFor(() => this.state.calleeLeg(call, byName), this.state.defaultWithinMs, () => `no incoming call for ${call.id} at ${byName}`);
    return act(this.state.agent(byName), leg);
  }
}
