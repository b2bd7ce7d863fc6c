import os from 'node:os';
import path from 'node:path';
import type { AccountConfig, AddressEvent, CallSnapshot, RegistrationSnapshot } from '../api/phone-types.js';
import { PhoneError } from '../api/phone-error.js';
import type { CallLogStore } from '../calllog/call-log-store.js';
import type { MediaFactoryProvider } from '../phone/media-factory.js';
import { Phone } from '../phone/phone.js';
import { BufferSource, ToneSource } from '../media/audio-frame.js';
import { MediaError } from '../media/media-error.js';
import type { MediaSession } from '../media/media-session.js';
import { readWav, WavFileSink } from '../media/wav-file.js';
import { matchDialRules } from '../privacy/dial-plan.js';
import { fingerprintCaller } from '../privacy/caller-fingerprint.js';
import { findIdentityLeaks } from '../privacy/identity-leaks.js';
import { rawCallId } from '../phone/trace-router.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import type { VerificationKeyFile } from '../signing/key-ring.js';
import type { TraceSignature } from '../api/signature-types.js';
import { callFailure, signatureMismatch, type SignatureExpectation } from './call-checks.js';
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import { provisionPhone, type ProvisionedPhone, type ServiceGatewayEndpoints } from '../phone/provision-phone.js';
import { runLoad, type LoadCallOutcome } from './call-load.js';
import type { AddressUse, AgentReport, CallLegReport, CallReport, LoadReport, ScenarioReport, StepReport } from './scenario-report.js';
import type { AgentSpec, LabConversion, Scenario, ScenarioStep, StepOf } from './scenario-schema.js';

type ServerUris = { udp?: string; tcp?: string; ws?: string };

/** The embedded lab as the runner sees it (the CLI starts it; core never imports lab/). */
export interface LabHandle {
  servers: ServerUris;
  domain: string;
  /** With `LabRequest.domains`: each domain's own proxy. */
  domainServers?: Record<string, ServerUris>;
  /** The operator's lookup in the conversion tables: who is behind an anonymous Call-ID or AnonymousN. */
  identify?(key: string): { realUser: string } | undefined;
  snapshot(): unknown;
  stop(): Promise<void>;
  /** Where the service gateway answers, when one runs. */
  serviceGateway?: ServiceGatewayEndpoints;
  /** Fault injection: a soft switch stops answering. */
  stopMgc?(which: 'primary' | 'secondary'): Promise<void>;
  /** The keys that verify the lab's signed routing headers (seed 002), handed to every agent. */
  verificationKeys?(): VerificationKeyFile[];
}

export interface LabRequest {
  auth: boolean;
  users: Record<string, { password?: string }>;
  /** Seed 003's service gateway with two soft switches, when the scenario asks for it. */
  serviceGateway?: { vendorClasses?: Record<string, number> };
  /** The domains the agents name, with each one's users: one lab proxy per domain, peered. */
  domains?: Record<string, Record<string, { password?: string }>>;
  /** Where the network converts anonymous calls (seed 000 Embodiments 2-5); absent: the lab's default. */
  conversion?: LabConversion;
  /** Sign and validate routing headers, every phone's link untrusted (seed 002). */
  signing?: boolean;
  /** Forge routing headers on the phones' links (fault injection). */
  tamper?: 'via' | 'record_route' | 'route_set' | 'replay';
}

export interface ScenarioRunnerOptions {
  startLab?: (request: LabRequest) => Promise<LabHandle>;
  createSessionDescriptionHandlerFactory: MediaFactoryProvider;
  callLog?: CallLogStore;
  timers?: SipTimerValues;
  /** Where each agent keeps its persistent state (`agents/NAME` inside): the ownership journal of one-time addresses. */
  dataDir?: string;
  /** Default wait of an `expect` without `within`. */
  defaultWithinMs?: number;
  onProgress?: (step: StepReport) => void;
}

/** The run could not happen (lab or sockets failed); exit code 3 territory. */
export class ScenarioEnvironmentError extends Error {
  override readonly name = 'ScenarioEnvironmentError';
}

class StepFailure extends Error {}

interface AgentRuntime {
  name: string;
  spec: AgentSpec;
  phone: Phone;
  trace: SipTapEntry[];
  incoming: string[];
  registration?: RegistrationSnapshot;
  /** One-time addresses this agent took and gave back, in order. */
  addresses: AddressEvent[];
  /** Seed 003: what DHCP and TFTP gave this agent. */
  provisioned?: ProvisionedPhone;
}

interface CallRuntime {
  id: string;
  from: string;
  to: string;
  calleeAgent?: string;
  callerLeg: string;
  calleeLeg?: string;
}

/** Runs a scenario against real sockets: agents are Phones, the lab (when asked) is started by the host. */
export class ScenarioRunner {
  private readonly agents = new Map<string, AgentRuntime>();
  private readonly calls = new Map<string, CallRuntime>();
  private readonly snapshots = new Map<string, CallSnapshot>();
  /** DTMF digits received per call leg (RFC 4733 and SIP INFO alike). */
  private readonly digits = new Map<string, string>();
  private readonly waiters = new Set<() => void>();
  private readonly loads: LoadReport[] = [];
  private lab?: LabHandle;

  constructor(
    private readonly scenario: Scenario,
    private readonly options: ScenarioRunnerOptions,
  ) {}

  async run(): Promise<ScenarioReport> {
    const started = Date.now();
    const report: ScenarioReport = { ok: false, startedAt: new Date(started).toISOString(), durationMs: 0, steps: [], calls: [], agents: {} };
    if (this.scenario.name !== undefined) report.name = this.scenario.name;
    try {
      await this.setUp();
      let failed = false;
      const deadline = started + (this.scenario.timeoutMs ?? defaultScenarioTimeoutMs);
      for (const [index, step] of this.scenario.steps.entries()) {
        if (failed) {
          report.steps.push({ index, step: step.text, ok: false, ms: 0, reason: 'not run: an earlier step failed' });
          continue;
        }
        const stepStart = Date.now();
        try {
          await withDeadline(this.execute(step), deadline, () => `the scenario's timeout of ${this.scenario.timeoutMs ?? defaultScenarioTimeoutMs} ms ran out during this step`);
          report.steps.push({ index, step: step.text, ok: true, ms: Date.now() - stepStart });
        } catch (error) {
          failed = true;
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
    const users = Object.fromEntries(Object.values(this.scenario.agents).map((a) => [a.user, a.password === undefined ? {} : { password: a.password }]));
    let servers = this.scenario.server ?? {};
    let domain = this.scenario.domain;
    if (this.scenario.lab) {
      if (!this.options.startLab) throw new ScenarioEnvironmentError('this host cannot start an embedded lab');
      const domains: Record<string, Record<string, { password?: string }>> = {};
      for (const agent of Object.values(this.scenario.agents)) {
        const named = agent.server === undefined ? (agent.domain ?? this.scenario.domain) : undefined;
        if (named !== undefined) (domains[named] ??= {})[agent.user] = agent.password === undefined ? {} : { password: agent.password };
      }
      const request: LabRequest = {
        auth: this.scenario.lab.auth ?? false,
        users,
        ...(Object.keys(domains).length > 0 ? { domains } : {}),
        ...(this.scenario.lab.conversion ? { conversion: this.scenario.lab.conversion } : {}),
      };
      try {
        const { signing, tamper, service_gateway: gateway } = this.scenario.lab;
        this.lab = await this.options.startLab({
          ...request,
          ...(signing ? { signing } : {}),
          ...(tamper ? { tamper } : {}),
          ...(gateway ? { serviceGateway: gateway.vendor_classes ? { vendorClasses: gateway.vendor_classes } : {} } : {}),
        });
      } catch (error) {
        throw new ScenarioEnvironmentError(`the embedded lab failed to start: ${(error as Error).message}`);
      }
      servers = this.lab.servers;
      domain ??= this.lab.domain;
    }
    for (const [name, spec] of Object.entries(this.scenario.agents)) {
      const own = this.lab?.domainServers?.[spec.domain ?? this.scenario.domain ?? ''];
      const server = spec.server ?? own?.[spec.transport] ?? servers[spec.transport];
      if (!server) throw new ScenarioEnvironmentError(`agent ${name}: no ${spec.transport} server to use`);
      const trace: SipTapEntry[] = [];
      const agentDir = this.options.dataDir !== undefined ? path.join(this.options.dataDir, 'agents', name) : undefined;
      let provisioned: ProvisionedPhone | undefined;
      if (spec.provision === 'dhcp') {
        if (!this.lab?.serviceGateway) throw new ScenarioEnvironmentError(`agent ${name}: no service gateway to provision from`);
        try {
          provisioned = await provisionPhone({ gateway: this.lab.serviceGateway, ...(spec.vendor_class !== undefined ? { vendorClass: spec.vendor_class } : {}), ...(spec.client_id !== undefined ? { clientId: spec.client_id } : {}), ...(agentDir !== undefined ? { dataDir: agentDir } : {}) });
        } catch (error) {
          throw new ScenarioEnvironmentError(`agent ${name}: provisioning failed: ${(error as Error).message}`);
        }
      }
      const phone = new Phone({
        accounts: [
          {
            id: name,
            user: spec.user,
            server,
            transport: spec.transport,
            ...(spec.display !== undefined ? { displayName: spec.display } : {}),
            ...(spec.password !== undefined ? { password: spec.password } : {}),
            ...(spec.answer !== undefined ? { answer: spec.answer } : {}),
            ...(spec.anonymity !== undefined && spec.anonymity !== 'none' ? { anonymity: { anonymous: true, mode: spec.anonymity, level: 'id' as const } } : {}),
            ...((spec.domain ?? domain) !== undefined ? { domain: spec.domain ?? domain } : {}),
            ...addressSettings(spec),
            ...(provisioned ? provisioned.account : {}),
            ...(spec.keepalive !== undefined ? { keepalive: { intervalMs: spec.keepalive, timeoutMs: Math.max(200, Math.min(2000, spec.keepalive)) } } : {}),
          },
        ],
        ...(agentDir !== undefined ? { dataDir: agentDir } : {}),
        ...(provisioned ? { lease: provisioned.phoneLease } : {}),
        createSessionDescriptionHandlerFactory: this.options.createSessionDescriptionHandlerFactory,
        ...(this.options.callLog ? { callLog: this.options.callLog } : {}),
        ...(this.options.timers ? { timers: this.options.timers } : {}),
        onTrace: (_account, entry) => trace.push(entry),
        signatureKeys: () => this.lab?.verificationKeys?.(),
      });
      const agent: AgentRuntime = { name, spec, phone, trace, incoming: [], addresses: [], ...(provisioned ? { provisioned } : {}) };
      phone.subscribe((event) => {
        if (event.type === 'call' || event.type === 'incoming') {
          // A call refused before it rings (488, 503, an agent that rejects) has no incoming event, only call events.
          if (event.call.direction === 'incoming' && !this.snapshots.has(event.call.id)) agent.incoming.push(event.call.id);
          this.snapshots.set(event.call.id, event.call);
        } else if (event.type === 'registration') {
          agent.registration = event.registration;
        } else if (event.type === 'dtmf') {
          this.digits.set(event.callId, (this.digits.get(event.callId) ?? '') + event.digit);
        } else if (event.type === 'address') {
          agent.addresses.push(event.address);
        }
        for (const wake of [...this.waiters]) wake();
      });
      this.agents.set(name, agent);
    }
  }

  private async tearDown(report: ScenarioReport): Promise<void> {
    await Promise.allSettled([...this.agents.values()].map((a) => a.phone.shutdown()));
    await Promise.allSettled([...this.agents.values()].map((a) => a.provisioned?.release()));
    for (const call of this.calls.values()) report.calls.push(this.callReport(call));
    if (this.loads.length > 0) report.loads = this.loads;
    for (const agent of this.agents.values()) {
      const agentReport: AgentReport = {
        user: agent.spec.user,
        transport: agent.spec.transport,
        trace: agent.trace.map(({ dir, at, transport, local, remote, raw }) => ({ dir, at, transport, local, remote, raw })),
      };
      if (agent.registration) agentReport.registration = agent.registration;
      if (agent.addresses.length > 0) agentReport.addresses = addressHistory(agent.addresses);
      if (agent.provisioned) agentReport.lease = agent.provisioned.summary;
      report.agents[agent.name] = agentReport;
    }
    if (this.lab) {
      report.lab = this.lab.snapshot();
      await this.lab.stop().catch(() => undefined);
    }
  }

  private async execute(step: ScenarioStep): Promise<void> {
    switch (step.kind) {
      case 'register': {
        const registration = await this.agent(step.value).phone.register();
        if (registration.state !== 'registered') throw new StepFailure(`${step.value} is ${registration.state}`);
        return;
      }
      case 'unregister':
        await this.agent(step.value).phone.unregister();
        return;
      case 'call':
        return this.placeCall(step);
      case 'load':
        return this.runLoadStep(step);
      case 'answer':
        return this.onLeg(step.value, 'callee', (agent, leg) => agent.phone.answer(leg));
      case 'reject':
        return this.onLeg(step.value, 'callee', (agent, leg) => agent.phone.reject(leg, step.value.status));
      case 'hangup':
        return this.onLeg(step.value, 'caller', (agent, leg) => agent.phone.hangup(leg));
      case 'hold':
        return this.onLeg(step.value, 'caller', (agent, leg) => agent.phone.hold(leg, true));
      case 'resume':
        return this.onLeg(step.value, 'caller', (agent, leg) => agent.phone.hold(leg, false));
      case 'wait':
        await new Promise((resolve) => setTimeout(resolve, step.value));
        return;
      case 'stop_mgc':
        if (!this.lab?.stopMgc) throw new StepFailure('this lab has no soft switches to stop');
        await this.lab.stopMgc(step.value);
        return;
      case 'play': {
        const { file, tone, loop } = step.value;
        const source = file !== undefined ? this.wavSource(file, loop ?? false) : new ToneSource(tone!);
        return this.onLeg(step.value, 'caller', async (agent, leg) => (await this.media(agent, leg)).play(source));
      }
      case 'record': {
        const file = this.resolvePath(step.value.file);
        return this.onLeg(step.value, 'caller', async (agent, leg) => {
          const media = await this.media(agent, leg);
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
        return this.expect(step);
    }
  }

  /** What `caller` dials for `to`: an agent's name becomes its user (or full address in another domain). */
  private dialTarget(caller: AgentRuntime, to: string): { target: string; calleeAgent?: string } {
    // `to` may carry a dial prefix (184bob): the callee is whoever the rest names.
    const { rest, rule } = matchDialRules(to);
    const calleeAgent = this.agents.has(rest) ? rest : [...this.agents.values()].find((a) => a.spec.user === rest)?.name;
    if (calleeAgent === undefined) return { target: to };
    const callee = this.agent(calleeAgent);
    const calleeDomain = this.domainOf(callee);
    // An agent in another domain is dialled by its full address (the dial prefix stays in front of the user).
    const elsewhere = calleeDomain !== undefined && calleeDomain !== this.domainOf(caller);
    return { target: elsewhere ? `sip:${rule?.prefix ?? ''}${callee.spec.user}@${calleeDomain}` : `${rule?.prefix ?? ''}${callee.spec.user}`, calleeAgent };
  }

  private async placeCall(step: StepOf<'call'>): Promise<void> {
    const { from, to, id, anonymity, level } = step.value;
    const caller = this.agent(from);
    const { target, calleeAgent } = this.dialTarget(caller, to);
    const snapshot = await caller.phone.call({ target, ...(anonymity !== undefined ? { anonymity } : {}), ...(level !== undefined ? { anonymityLevel: level } : {}) });
    if (!this.snapshots.has(snapshot.id)) this.snapshots.set(snapshot.id, snapshot); // its events may have come first
    const call: CallRuntime = { id, from, to, callerLeg: snapshot.id };
    if (calleeAgent !== undefined) call.calleeAgent = calleeAgent;
    this.calls.set(id, call);
  }

  /**
   * SPEC G: `calls` calls at `rate` per second, at most `parallel` at once (core/scenario/call-load.ts). Each call
   * waits for its answer or its end (up to 64·T1, Timer B), is held `hold` when answered, and is hung up by the
   * caller. The outcome goes to the report's `loads`; `expect: { load: {...} }` checks it.
   */
  private async runLoadStep(step: StepOf<'load'>): Promise<void> {
    const { from, to, id, calls, rate, parallel, hold, anonymity } = step.value;
    const caller = this.agent(from);
    const { target } = this.dialTarget(caller, to);
    const settleMs = 64 * (this.options.timers?.t1 ?? 500);
    const placeOne = async (): Promise<LoadCallOutcome> => {
      const placed = await caller.phone.call({ target, ...(anonymity !== undefined ? { anonymity } : {}) });
      if (!this.snapshots.has(placed.id)) this.snapshots.set(placed.id, placed); // events may have come first
      const current = (): CallSnapshot => this.snapshots.get(placed.id)!;
      const settled = await this.waitFor(() => (['established', 'terminated'].includes(current().state) ? current() : undefined), settleMs, () => 'no answer').catch(() => undefined);
      if (settled?.state !== 'established') {
        if (settled === undefined) await caller.phone.hangup(placed.id).catch(() => undefined);
        // sip.js may end the session just before it hands over the final response (sip-call.ts): give it a moment
        const ended = await this.waitFor(() => (current().status !== undefined ? current() : undefined), 1000, () => 'no status').catch(() => current());
        return { established: false, ...(ended.status !== undefined ? { status: ended.status } : {}) };
      }
      if (hold > 0) await new Promise((resolve) => setTimeout(resolve, hold));
      await caller.phone.hangup(placed.id).catch(() => undefined);
      await this.waitFor(() => (current().state === 'terminated' ? true : undefined), settleMs, () => 'no end').catch(() => undefined);
      return { established: true, status: settled.status ?? 200, ...(settled.setupMs !== undefined ? { setupMs: settled.setupMs } : {}) };
    };
    const summary = await runLoad({ calls, rate, parallel }, placeOne);
    this.loads.push({ id, from, to, plan: { calls, rate, parallel, holdMs: hold }, ...summary });
  }

  private resolvePath(file: string): string {
    return path.resolve(this.scenario.baseDir ?? process.cwd(), file);
  }

  private wavSource(file: string, loop: boolean): BufferSource {
    try {
      const audio = readWav(this.resolvePath(file));
      return new BufferSource(audio.samples, `${file} (${audio.format})`, loop);
    } catch (error) {
      throw new StepFailure(error instanceof MediaError ? error.message : `cannot play ${file}: ${(error as Error).message}`);
    }
  }

  /** A leg's media session; it exists once the call's SDP was negotiated. */
  private media(agent: AgentRuntime, leg: string, within = this.options.defaultWithinMs ?? 5000): Promise<MediaSession> {
    return this.waitFor(() => agent.phone.mediaOf(leg), within, () => `${agent.name}'s leg has no media session (is the call established?)`);
  }

  /** Act on one leg of a call: the caller's unless `by` names another agent (then that agent's incoming leg). */
  private async onLeg(value: { call: string; by?: string | undefined }, defaultSide: 'caller' | 'callee', act: (agent: AgentRuntime, leg: string) => Promise<void>): Promise<void> {
    const call = this.call(value.call);
    const byName = value.by ?? (defaultSide === 'caller' ? call.from : call.calleeAgent);
    if (byName === undefined) throw new StepFailure(`call ${call.id}: name the callee's agent with "by"`);
    if (byName === call.from) return act(this.agent(call.from), call.callerLeg);
    const leg = await this.waitFor(() => this.calleeLeg(call, byName), this.options.defaultWithinMs ?? 5000, () => `no incoming call for ${call.id} at ${byName}`);
    return act(this.agent(byName), leg);
  }

  private async expect(step: StepOf<'expect'>): Promise<void> {
    const e = step.value;
    const within = e.within ?? this.options.defaultWithinMs ?? 5000;
    if (e.call !== undefined) {
      const call = this.call(e.call);
      const agentName = e.agent ?? call.from;
      const legName = agentName === call.from ? `${agentName}'s leg` : `${agentName}'s leg`;
      const current = (): CallSnapshot | undefined => {
        const legId = agentName === call.from ? call.callerLeg : this.calleeLeg(call, agentName);
        return legId === undefined ? undefined : this.snapshots.get(legId);
      };
      const describe = (): string => {
        const snap = current();
        return snap ? `it is ${snap.state}${snap.status !== undefined ? ` with ${snap.status} ${snap.reason ?? ''}`.trimEnd() : ''}` : 'that leg never appeared';
      };
      if (e.state !== undefined) {
        await this.waitFor(() => (current()?.state === e.state ? true : undefined), within, () => `expected call ${call.id} (${legName}) to be ${e.state} within ${within}ms, but ${describe()}`);
      }
      if (e.caller_hidden !== undefined) await this.expectCallerHidden(call, e.agent ?? call.calleeAgent, e.caller_hidden, within);
      if (e.caller_identified !== undefined) await this.expectCallerIdentified(call, e.agent ?? call.calleeAgent, e.caller_identified, within);
      if (e.dtmf_received !== undefined || e.audio !== undefined || e.rtp !== undefined) {
        await this.expectMedia(e, call, agentName, within, legName);
      }
      if (e.signatures !== undefined) await this.expectSignatures(call, agentName, e.signatures, within, legName);
      if (e.failed !== undefined) await this.expectFailed(call, agentName, e.failed, within, legName);
      if (e.status !== undefined) {
        const final = await this.waitFor(
          () => {
            const snap = current();
            return snap && snap.status !== undefined && snap.status >= 200 && (snap.state === 'established' || snap.state === 'terminated') ? snap : undefined;
          },
          within,
          () => `expected call ${call.id} (${legName}) to end its INVITE with ${e.status} within ${within}ms, but ${describe()}`,
        );
        if (final.status !== e.status) throw new StepFailure(`expected call ${call.id} (${legName}) status ${e.status}, got ${final.status} ${final.reason ?? ''}`.trimEnd());
      }
      return;
    }
    if (e.load !== undefined) {
      const load = this.loads.find((l) => l.id === e.load!.id)!;
      const { established, max_failed: maxFailed } = e.load;
      if (established !== undefined && load.established < established) throw new StepFailure(`expected load ${load.id} to establish ${established} calls, it established ${load.established} (statuses ${JSON.stringify(load.statuses)})`);
      if (maxFailed !== undefined && load.failed > maxFailed) throw new StepFailure(`expected at most ${maxFailed} failed calls in load ${load.id}, ${load.failed} failed (statuses ${JSON.stringify(load.statuses)})`);
      if (e.agent === undefined) return;
    }
    const agent = this.agent(e.agent!);
    if (e.registered !== undefined) {
      await this.waitFor(() => ((agent.registration?.state === 'registered') === e.registered ? true : undefined), within, () => `expected ${agent.name} ${e.registered ? '' : 'not '}registered, it is ${agent.registration?.state ?? 'unregistered'}`);
    }
    if (e.incoming !== undefined) {
      const { from_user: fromUser, count, state, status, id, anonymous } = e.incoming;
      const matching = (): CallSnapshot[] =>
        agent.incoming
          .map((id) => this.snapshots.get(id)!)
          .filter(
            (c) =>
              (fromUser === undefined || c.remote.user === fromUser) &&
              (state === undefined || c.state === state) &&
              (status === undefined || c.status === status) &&
              (anonymous === undefined || c.remote.anonymous === anonymous),
          );
      await this.waitFor(
        () => (count !== undefined ? (matching().length === count ? true : undefined) : matching().length > 0 ? true : undefined),
        within,
        () => {
          const seen = agent.incoming.map((id) => {
            const snap = this.snapshots.get(id)!;
            return `${snap.remote.user ?? snap.remote.uri} (${snap.state}${snap.status !== undefined ? ` ${snap.status}` : ''}${snap.remote.anonymous ? ', anonymous' : ''})`;
          });
          const wanted = `${count ?? 'a'} ${anonymous === true ? 'anonymous ' : anonymous === false ? 'presented ' : ''}call(s)${fromUser !== undefined ? ` from ${fromUser}` : ''}${state !== undefined ? ` ${state}` : ''}${status !== undefined ? ` with ${status}` : ''}`;
          return `expected ${agent.name} to have ${wanted} within ${within}ms; received ${seen.length ? seen.join(', ') : 'none'}`;
        },
      );
      if (id !== undefined) {
        // The named call is "placed" by nobody in the scenario: its one leg is the receiving agent's.
        const leg = matching()[0]!;
        this.calls.set(id, { id, from: agent.name, to: leg.remote.user ?? leg.remote.uri, callerLeg: leg.id });
      }
    }
  }

  private async expectMedia(e: StepOf<'expect'>['value'], call: CallRuntime, agentName: string, within: number, legName: string): Promise<void> {
    const legId = (): string | undefined => (agentName === call.from ? call.callerLeg : this.calleeLeg(call, agentName));
    const leg = await this.waitFor(legId, within, () => `call ${call.id} has no leg at ${agentName}`);
    const agent = this.agent(agentName);
    if (e.dtmf_received !== undefined) {
      const wanted = e.dtmf_received.toUpperCase();
      await this.waitFor(
        () => ((this.digits.get(leg) ?? '').endsWith(wanted) ? true : undefined),
        within,
        () => `expected ${legName} of ${call.id} to receive DTMF "${wanted}" within ${within}ms, got "${this.digits.get(leg) ?? ''}"`,
      );
    }
    if (e.audio !== undefined) {
      const { tone_hz: hz, min_share: minShare } = e.audio;
      const media = await this.media(agent, leg, within);
      await this.poll(
        () => media.recent.toneShare(hz) >= minShare,
        within,
        () => `expected ${legName} of ${call.id} to receive a ${hz} Hz tone (≥ ${Math.round(minShare * 100)} % of the energy) within ${within}ms; it is ${Math.round(media.recent.toneShare(hz) * 100)} % after ${media.stats().packetsReceived} packets`,
      );
    }
    if (e.rtp !== undefined) {
      const rtp = e.rtp;
      const media = await this.media(agent, leg, within);
      if (rtp.codec !== undefined && media.stats().codec !== rtp.codec) throw new StepFailure(`expected ${legName} of ${call.id} to use ${rtp.codec}, it uses ${media.stats().codec ?? 'nothing'}`);
      if (rtp.min_received !== undefined) {
        await this.poll(() => media.stats().packetsReceived >= rtp.min_received!, within, () => `expected ${legName} of ${call.id} to receive ${rtp.min_received} RTP packets within ${within}ms, got ${media.stats().packetsReceived}`);
      }
      if (rtp.flowing !== undefined) {
        // Flowing means packets arrive and leave: both counters move over 300 ms (or both stand still).
        const before = media.stats();
        await new Promise((resolve) => setTimeout(resolve, 300));
        const after = media.stats();
        const moving = after.packetsReceived > before.packetsReceived && after.packetsSent > before.packetsSent;
        const still = after.packetsReceived === before.packetsReceived && after.packetsSent === before.packetsSent;
        if (rtp.flowing ? !moving : !still) {
          throw new StepFailure(`expected media on ${legName} of ${call.id} to be ${rtp.flowing ? 'flowing' : 'stopped'}: in 300 ms it sent ${after.packetsSent - before.packetsSent} and received ${after.packetsReceived - before.packetsReceived} packets`);
        }
      }
      if (rtp.max_loss_pct !== undefined) {
        const stats = media.stats();
        if (stats.packetsReceived === 0) throw new StepFailure(`expected ${legName} of ${call.id} to have received RTP, it has none`);
        if (stats.lossPercent > rtp.max_loss_pct) throw new StepFailure(`expected at most ${rtp.max_loss_pct} % RTP loss on ${legName} of ${call.id}, measured ${stats.lossPercent} % (${stats.packetsLost} of ${stats.packetsLost + stats.packetsReceived})`);
      }
    }
  }

  /**
   * Privacy check on what the callee really received (issue 4, "Proof that nothing leaks"): every message of the call
   * in its trace is searched for the caller's fingerprint, read from the caller's own trace — user, display name,
   * domain (when it is a name and not the callee's own), host names, the addresses of its other identities and its
   * fixed address (the call's one-time address may show), instance ids, GRUUs, Call-ID host names. An address the
   * caller shares with its server (a fixed-address agent beside the embedded lab on loopback) cannot be told apart.
   */
  private async expectCallerHidden(call: CallRuntime, calleeName: string | undefined, hidden: boolean, within: number): Promise<void> {
    if (calleeName === undefined) throw new StepFailure(`call ${call.id}: name the receiving agent with "agent"`);
    const leg = await this.waitFor(() => this.calleeLeg(call, calleeName), within, () => `no incoming call for ${call.id} at ${calleeName}`);
    const sipCallId = this.snapshots.get(leg)!.sipCallId;
    const caller = this.agent(call.from);
    const callerSnap = this.snapshots.get(call.callerLeg)!;
    const domain = this.domainOf(caller);
    const calleeDomain = this.domainOf(this.agent(calleeName));
    const host = os.hostname();
    const fingerprint = fingerprintCaller({
      user: caller.spec.user,
      ...(caller.spec.display !== undefined ? { displayName: caller.spec.display } : {}),
      ...(domain !== undefined && !/^[\d.:[\]]+$/.test(domain) && domain.toLowerCase() !== calleeDomain?.toLowerCase() ? { domain } : {}),
      ...(host.length >= 4 && host !== 'localhost' ? { hostNames: [host] } : {}),
      messages: caller.trace,
      callId: callerSnap.sipCallId,
      ...(caller.spec.address?.mode === 'temporary' && callerSnap.localAddress !== undefined ? { oneTimeAddress: callerSnap.localAddress } : {}),
      networkAddresses: this.networkAddresses(),
    });
    const received = this.agent(calleeName).trace.filter((entry) => entry.dir === 'in' && rawCallId(entry.raw) === sipCallId);
    const leaks = received.flatMap((entry) => findIdentityLeaks(entry.raw, fingerprint).map((leak) => `${entry.raw.split('\r\n')[0]}: ${leak.where} has ${leak.found}`));
    if (hidden && leaks.length > 0) throw new StepFailure(`the caller shows in what ${calleeName} received: ${leaks.slice(0, 5).join('; ')}`);
    if (!hidden && leaks.length === 0) throw new StepFailure(`expected ${calleeName} to see who called, but nothing names ${caller.spec.user}`);
    if (received.length === 0) throw new StepFailure(`${calleeName} received no message of call ${call.id}`);
  }

  /** Seed 000: anonymous to the callee, known to the carrier: the lab's conversion tables name the real caller. */
  private async expectCallerIdentified(call: CallRuntime, calleeName: string | undefined, identified: boolean, within: number): Promise<void> {
    if (calleeName === undefined) throw new StepFailure(`call ${call.id}: name the receiving agent with "agent"`);
    const identify = this.lab?.identify;
    if (!identify) throw new StepFailure('caller_identified needs the embedded lab (its conversion tables)');
    const leg = await this.waitFor(() => this.calleeLeg(call, calleeName), within, () => `no incoming call for ${call.id} at ${calleeName}`);
    const shown = this.snapshots.get(leg)!;
    const caller = this.agent(call.from);
    const domain = this.domainOf(caller);
    const found = identify.call(this.lab, shown.sipCallId);
    const matches = found !== undefined && found.realUser.split('@')[0] === caller.spec.user && (domain === undefined || found.realUser.split('@').slice(1).join('@').toLowerCase() === domain.toLowerCase());
    if (identified && !matches) throw new StepFailure(`the operator cannot identify the caller of ${call.id} (shown to ${calleeName} as ${shown.remote.uri}, Call-ID ${shown.sipCallId}): the tables say ${found ? found.realUser : 'nothing'}`);
    if (!identified && found !== undefined) throw new StepFailure(`expected no conversion record for ${call.id}, the tables name ${found.realUser}`);
  }

  /** The domain an agent's address-of-record is in, when the scenario or the lab says. */
  private domainOf(agent: AgentRuntime): string | undefined {
    return agent.spec.domain ?? this.scenario.domain ?? (agent.spec.server === undefined ? this.lab?.domain : undefined);
  }

  /** The servers' addresses: the network's own, never the caller's. */
  private networkAddresses(): string[] {
    const uris = [
      ...Object.values(this.lab?.servers ?? {}),
      ...Object.values(this.lab?.domainServers ?? {}).flatMap((s) => Object.values(s)),
      ...Object.values(this.scenario.server ?? {}),
      ...[...this.agents.values()].map((a) => a.spec.server),
    ].filter((u): u is string => u !== undefined);
    return uris.map((uri) => /^sips?:(?:[^@;]*@)?(\[[^\]]+\]|[^:;]+)/i.exec(uri)?.[1]?.replace(/^\[|\]$/g, '')).filter((h): h is string => h !== undefined);
  }

  /** The signatures this leg's phone decoded in the call's messages, checked with the lab's keys. */
  private async expectSignatures(call: CallRuntime, agentName: string, wanted: SignatureExpectation, within: number, legName: string): Promise<void> {
    const agent = this.agent(agentName);
    const leg = await this.waitFor(() => (agentName === call.from ? call.callerLeg : this.calleeLeg(call, agentName)), within, () => `call ${call.id} has no leg at ${agentName}`);
    const deadline = Date.now() + within;
    for (;;) {
      const detail = await agent.phone.callDetail(leg);
      const found: Array<{ signature: TraceSignature; where: string }> = (detail?.messages ?? []).flatMap((m) =>
        (m.signatures ?? []).map((signature) => ({ signature, where: `${m.dir === 'in' ? 'received' : 'sent'} ${m.raw.slice(0, m.raw.indexOf('\r\n'))} (${signature.header}[${signature.index}])` })),
      );
      const mismatch = signatureMismatch(found, wanted);
      if (mismatch === undefined) return;
      if (Date.now() > deadline) throw new StepFailure(`expected ${legName} of ${call.id} to carry signatures ${JSON.stringify(wanted)}: ${mismatch}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * A call failed when its leg ended without being answered, or — at the end of `within` — was never established or
   * sent a request that never reached the other side (what a proxy dropping forged routing headers does, seed 002).
   */
  private async expectFailed(call: CallRuntime, agentName: string, failed: boolean, within: number, legName: string): Promise<void> {
    const other = agentName === call.from ? call.calleeAgent : call.from;
    const evaluate = (): string | undefined => {
      const legId = agentName === call.from ? call.callerLeg : this.calleeLeg(call, agentName);
      const snap = legId !== undefined ? this.snapshots.get(legId) : undefined;
      const otherLeg = other === undefined ? undefined : other === call.from ? call.callerLeg : this.calleeLeg(call, other);
      const otherSnap = otherLeg !== undefined ? this.snapshots.get(otherLeg) : undefined;
      return callFailure(
        snap && { name: agentName, snapshot: snap, trace: this.agent(agentName).trace },
        otherSnap && other !== undefined ? { name: other, snapshot: otherSnap, trace: this.agent(other).trace } : undefined,
      );
    };
    const deadline = Date.now() + within;
    // An unanswered end shows early; a never-established call or a lost request only once `within` is over.
    while (Date.now() < deadline) {
      const snap = this.snapshots.get(agentName === call.from ? call.callerLeg : (this.calleeLeg(call, agentName) ?? ''));
      if (failed && snap?.state === 'terminated' && snap.answeredAt === undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const reason = evaluate();
    if (failed && reason === undefined) throw new StepFailure(`expected call ${call.id} (${legName}) to fail, but it was established and every request of it got through`);
    if (!failed && reason !== undefined) throw new StepFailure(`expected call ${call.id} (${legName}) to work, but ${reason}`);
  }

  /** Like waitFor, but re-checked on a timer: media counters change without phone events. */
  private async poll(probe: () => boolean, ms: number, failure: () => string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!probe()) {
      if (Date.now() > deadline) throw new StepFailure(failure());
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** The callee's leg of a call at `agentName`: same Call-ID local part (a conversion server may change the domain), else the oldest unclaimed incoming call. */
  private calleeLeg(call: CallRuntime, agentName: string): string | undefined {
    if (call.calleeLeg !== undefined) return call.calleeLeg;
    const agent = this.agent(agentName);
    const callerSnap = this.snapshots.get(call.callerLeg);
    if (!callerSnap) return undefined;
    const local = (id: string): string => id.split('@')[0]!;
    const claimed = new Set([...this.calls.values()].map((c) => c.calleeLeg).filter((x): x is string => x !== undefined));
    const candidates = agent.incoming.filter((id) => !claimed.has(id));
    const byCallId = candidates.find((id) => local(this.snapshots.get(id)!.sipCallId) === local(callerSnap.sipCallId));
    const leg = byCallId ?? candidates.find((id) => (this.snapshots.get(id)!.startedAt >= callerSnap.startedAt));
    if (leg !== undefined) call.calleeLeg = leg;
    return leg;
  }

  private callReport(call: CallRuntime): CallReport {
    const caller = this.snapshots.get(call.callerLeg)!;
    const legReport = (agent: string, snap: CallSnapshot): CallLegReport => {
      const leg: CallLegReport = { agent, callId: snap.id, sipCallId: snap.sipCallId, state: snap.state };
      if (snap.status !== undefined) leg.status = snap.status;
      if (snap.reason !== undefined) leg.reason = snap.reason;
      if (snap.endedBy !== undefined) leg.endedBy = snap.endedBy;
      if (snap.media !== undefined) leg.media = snap.media;
      if (snap.localAddress !== undefined) leg.localAddress = snap.localAddress;
      const digits = this.digits.get(snap.id);
      if (digits !== undefined) leg.dtmfReceived = digits;
      return leg;
    };
    const report: CallReport = { id: call.id, from: call.from, to: call.to, legs: { caller: legReport(call.from, caller) } };
    if (caller.status !== undefined) report.status = caller.status;
    if (caller.setupMs !== undefined) report.setupMs = caller.setupMs;
    if (caller.answeredAt !== undefined && caller.endedAt !== undefined) report.durationMs = caller.endedAt - caller.answeredAt;
    const calleeAgent = call.calleeAgent;
    const calleeId = calleeAgent !== undefined ? this.calleeLeg(call, calleeAgent) : undefined;
    if (calleeAgent !== undefined && calleeId !== undefined) report.legs.callee = legReport(calleeAgent, this.snapshots.get(calleeId)!);
    return report;
  }

  private agent(name: string): AgentRuntime {
    const agent = this.agents.get(name);
    if (!agent) throw new StepFailure(`no agent ${name}`);
    return agent;
  }

  private call(id: string): CallRuntime {
    const call = this.calls.get(id);
    if (!call) throw new StepFailure(`no call ${id} has been placed`);
    return call;
  }

  /** Resolve with the first defined value of `probe`, re-checked on every phone event, or fail after `ms`. */
  private waitFor<T>(probe: () => T | undefined, ms: number, failure: () => string): Promise<T> {
    const first = probe();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const value = probe();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new StepFailure(failure()));
      }, ms);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }
}

/** The account's address settings from an agent's `address` option. */
function addressSettings(spec: AgentSpec): Pick<AccountConfig, 'address' | 'localAddress'> {
  const option = spec.address;
  if (option === undefined) return {};
  if (option.mode === 'fixed') return { address: { mode: 'fixed' }, ...(option.local !== undefined ? { localAddress: option.local } : {}) };
  const { source, prefix, interface: ifname, applier, dad, fallback, prepare } = option;
  return {
    address: {
      mode: 'temporary',
      source: source ?? (prefix !== undefined ? 'configured' : 'loopback'),
      ...(prefix !== undefined ? { prefix } : {}),
      ...(ifname !== undefined ? { interface: ifname } : {}),
      ...(applier !== undefined ? { applier } : {}),
      ...(dad !== undefined ? { dad } : {}),
      ...(fallback !== undefined ? { fallback } : {}),
      ...(prepare !== undefined ? { prepare } : {}),
    },
  };
}

/** Address events paired up: each address with when it was taken and given back. */
function addressHistory(events: AddressEvent[]): AddressUse[] {
  const uses: AddressUse[] = [];
  for (const event of events) {
    if (event.state === 'in-use') {
      uses.push({ address: event.address, purpose: event.purpose, applier: event.applier, from: event.at });
    } else {
      const use = uses.findLast((u) => u.address === event.address && u.until === undefined);
      if (use) use.until = event.at;
    }
  }
  return uses;
}

/** A run without `timeout:` still ends by itself (every run is bounded). */
export const defaultScenarioTimeoutMs = 10 * 60_000;

function withDeadline<T>(work: Promise<T>, deadline: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepFailure(message())), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

export function runScenario(scenario: Scenario, options: ScenarioRunnerOptions): Promise<ScenarioReport> {
  return new ScenarioRunner(scenario, options).run();
}
