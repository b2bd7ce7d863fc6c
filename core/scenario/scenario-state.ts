import type { AccountConfig, AddressEvent, CallSnapshot, RegistrationSnapshot } from '../api/phone-types.js';
import type { MediaSession } from '../media/media-session.js';
import type { Phone } from '../phone/phone.js';
import type { HouseholdTerminal } from '../phone/household-phone.js';
import type { ProvisionedPhone } from '../phone/provision-phone.js';
import type { AgentTrace } from './agent-trace.js';
import type { LabHandle } from './lab-handle.js';
import type { LoadReport } from './scenario-report.js';
import { StepFailure } from './scenario-errors.js';
import type { AgentSpec, Scenario } from './scenario-schema.js';

/** One agent of a run: its Phone and what the run saw of it. */
export interface AgentRuntime {
  name: string;
  spec: AgentSpec;
  /** The account its phone was made with (a load's workers make theirs from it, load-workers.ts). */
  account: AccountConfig;
  phone: Phone;
  /** Its newest SIP messages, kept on disk, and how many older ones were dropped (core/scenario/agent-trace.ts). */
  trace: AgentTrace;
  incoming: string[];
  /** The ended incoming calls of `load` steps, counted rather than kept one by one (ScenarioState.noteCall). */
  loadIncoming: Map<string, LoadIncomingTally>;
  registration?: RegistrationSnapshot;
  /** One-time addresses this agent took and gave back, in order. */
  addresses: AddressEvent[];
  /** Seed 003: what DHCP and TFTP gave this agent. */
  provisioned?: ProvisionedPhone;
  /** Seed 001: what its room's gateway allotted this household terminal. */
  household?: HouseholdTerminal;
}

/** The agent's SIP user: its own, or the number its room's gateway gave it (seed 001 ¶[57]). */
export function agentUser(agent: AgentRuntime): string {
  return agent.household?.household.number ?? agent.spec.user ?? agent.name;
}

/** A call the scenario named: who placed it, and the legs it has at each side. */
export interface CallRuntime {
  id: string;
  from: string;
  to: string;
  calleeAgent?: string;
  callerLeg: string;
  calleeLeg?: string;
}

/** Incoming calls of a load that ended alike: what an `incoming` expectation filters on, and how many. */
export interface LoadIncomingTally {
  user?: string;
  uri: string;
  anonymous: boolean;
  status?: number;
  count: number;
}

/** What a run knows so far (agents, their calls, every call's last snapshot, DTMF heard) and how it waits for more. */
export class ScenarioState {
  readonly agents = new Map<string, AgentRuntime>();
  readonly calls = new Map<string, CallRuntime>();
  readonly snapshots = new Map<string, CallSnapshot>();
  /** Whether a `load` step is placing calls: the calls that start meanwhile are its own. */
  loading = false;
  /** The live calls of loads (both legs), by id. */
  private readonly loadLegs = new Set<string>();
  /** Load legs whose first event was their end (refused at once), the newest few thousand: a repeat is not counted twice. */
  private readonly endedLoadLegs = new RecentIds(4096);
  /** DTMF digits received per call leg (RFC 4733 and SIP INFO alike). */
  readonly digits = new Map<string, string>();
  readonly loads: LoadReport[] = [];
  /** A load's worker threads while it runs: a scenario cut by its timeout stops them in its teardown (load-workers.ts). */
  readonly loadWorkerPools = new Set<{ stop(): Promise<void> }>();
  lab?: LabHandle;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly scenario: Scenario,
    /** Default wait of an `expect` without `within`, and of a step for its call leg. */
    readonly defaultWithinMs = 5000,
  ) {}

  /**
   * A call event at an agent. A named call's legs keep their last snapshot for the steps that look at them. A load's
   * calls (issue 23: up to a million) would keep about 2 KB each that way: they are followed only while they last,
   * and an incoming one that ended is added to its agent's tally (what an `incoming` expectation counts) and dropped.
   * The callee's leg of a named call placed just before the load (its INVITE still on the way) is told by its Call-ID.
   */
  noteCall(agent: AgentRuntime, call: CallSnapshot): void {
    const known = this.snapshots.has(call.id);
    if (!known && (this.loadLegs.has(call.id) || (this.loading && !this.legOfNamedCall(call)))) {
      if (call.state !== 'terminated') {
        this.loadLegs.add(call.id);
        return;
      }
      const wasLive = this.loadLegs.delete(call.id);
      // counted once: a leg seen live is counted as it ends; one refused at once has a single ending, kept in `ended`
      if (call.direction === 'incoming' && (wasLive || !this.endedLoadLegs.has(call.id))) tally(agent.loadIncoming, call);
      if (!wasLive) this.endedLoadLegs.add(call.id);
      return;
    }
    if (call.direction === 'incoming' && !known) agent.incoming.push(call.id); // refused before it rang: call events only
    this.snapshots.set(call.id, call);
  }

  /** Whether a call has the Call-ID of a named call's caller leg (local part: a conversion server may change the host). */
  private legOfNamedCall(call: CallSnapshot): boolean {
    const local = (id: string): string => id.split('@')[0]!;
    for (const named of this.calls.values()) {
      const caller = this.snapshots.get(named.callerLeg);
      if (caller && named.callerLeg !== call.id && local(caller.sipCallId) === local(call.sipCallId)) return true;
    }
    return false;
  }

  /** Something happened at an agent: re-check every wait. */
  wake(): void {
    for (const wake of [...this.waiters]) wake();
  }

  agent(name: string): AgentRuntime {
    const agent = this.agents.get(name);
    if (!agent) throw new StepFailure(`no agent ${name}`);
    return agent;
  }

  call(id: string): CallRuntime {
    const call = this.calls.get(id);
    if (!call) throw new StepFailure(`no call ${id} has been placed`);
    return call;
  }

  /** The callee's leg of a call at `agentName`: same Call-ID local part (a conversion server may change the domain), else the oldest unclaimed incoming call. */
  calleeLeg(call: CallRuntime, agentName: string): string | undefined {
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

  /** The domain an agent's address-of-record is in, when the scenario or the lab says. */
  domainOf(agent: AgentRuntime): string | undefined {
    return agent.spec.domain ?? this.scenario.domain ?? (agent.spec.server === undefined ? this.lab?.domain : undefined);
  }

  /** The servers' addresses: the network's own, never the caller's. */
  networkAddresses(): string[] {
    const uris = [
      ...Object.values(this.lab?.servers ?? {}),
      ...Object.values(this.lab?.domainServers ?? {}).flatMap((s) => Object.values(s)),
      ...Object.values(this.scenario.server ?? {}),
      ...[...this.agents.values()].map((a) => a.spec.server),
    ].filter((u): u is string => u !== undefined);
    return uris.map((uri) => /^sips?:(?:[^@;]*@)?(\[[^\]]+\]|[^:;]+)/i.exec(uri)?.[1]?.replace(/^\[|\]$/g, '')).filter((h): h is string => h !== undefined);
  }

  /** A leg's media session; it exists once the call's SDP was negotiated. */
  media(agent: AgentRuntime, leg: string, within = this.defaultWithinMs): Promise<MediaSession> {
    return this.waitFor(() => agent.phone.mediaOf(leg), within, () => `${agent.name}'s leg has no media session (is the call established?)`);
  }

  /** Resolve with the first defined value of `probe`, re-checked on every phone event, or fail after `ms`. */
  waitFor<T>(probe: () => T | undefined, ms: number, failure: () => string): Promise<T> {
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

  /** Like waitFor, but re-checked on a timer: media counters change without phone events. */
  async poll(probe: () => boolean, ms: number, failure: () => string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!probe()) {
      if (Date.now() > deadline) throw new StepFailure(failure());
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** Distinct callers a load's tally tells apart; past it (callers made anonymous with a user per call) the rest share one. */
const tallyKinds = 1000;

function tally(tallies: Map<string, LoadIncomingTally>, call: CallSnapshot): void {
  const anonymous = call.remote.anonymous === true;
  const status = call.status !== undefined ? { status: call.status } : {};
  let entry: Omit<LoadIncomingTally, 'count'> = { ...(call.remote.user !== undefined ? { user: call.remote.user } : {}), uri: call.remote.uri, anonymous, ...status };
  let key = JSON.stringify([entry.user, anonymous, call.status]);
  if (!tallies.has(key) && tallies.size >= tallyKinds) {
    entry = { uri: '(other callers)', anonymous, ...status };
    key = JSON.stringify(['(other callers)', anonymous, call.status]);
  }
  const known = tallies.get(key);
  if (known) known.count++;
  else tallies.set(key, { ...entry, count: 1 });
}

/** A set of the newest `limit` ids (the oldest goes first). */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly limit: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value!);
  }
}
