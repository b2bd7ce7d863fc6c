import type { PhoneApi } from '../api/phone-api.js';
import type { AnonymityMode, CallSnapshot } from '../api/phone-types.js';
import type { LoadCallOutcome, LoadCallProgress } from './call-load.js';

export interface LoadCallerOptions {
  /** The dial string every call of the load dials. */
  target: string;
  anonymity?: AnonymityMode | 'default';
  /** How long an answered call is held before the caller hangs up (ms). */
  holdMs: number;
  /** How long a call may take to be answered or refused, and then to end (64·T1, Timer B). */
  settleMs: number;
}

/**
 * One `load` step's calls from one phone (SPEC G): each call is placed, waited for until it is answered or ends (up to
 * `settleMs`), held `holdMs` when answered and hung up by the caller. It follows only its own calls, by the phone's
 * events, and forgets each one when it is over, so a million calls cost no memory. The same code places a load's calls
 * from the scenario's own agent and from each load worker's phone (load-worker.ts).
 */
export class LoadCaller {
  /** The latest snapshot of every outgoing call of the phone that has not ended yet, or that a placement follows. */
  private readonly snapshots = new Map<string, CallSnapshot>();
  private readonly followed = new Set<string>();
  /** Calls being placed whose id is not known yet: their events (even their end) must wait for them. */
  private placing = 0;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly phone: Pick<PhoneApi, 'call' | 'hangup' | 'subscribe'>,
    private readonly options: LoadCallerOptions,
  ) {
    this.unsubscribe = phone.subscribe((event) => {
      if (event.type !== 'call' || event.call.direction !== 'outgoing') return;
      const { id } = event.call;
      // A call's events may come before call() returns its id: every outgoing call is kept until it ends, or while a
      // call() is still to return; one nobody follows is then forgotten.
      if (event.call.state === 'terminated' && !this.followed.has(id) && this.placing === 0) this.snapshots.delete(id);
      else this.snapshots.set(id, event.call);
      for (const wake of this.waiters.get(id) ?? []) wake();
    });
  }

  /** Place one call and follow it to its end (core/scenario/call-load.ts counts the outcome). */
  async place(progress: LoadCallProgress): Promise<LoadCallOutcome> {
    const { settleMs, holdMs } = this.options;
    this.placing++;
    let placed: CallSnapshot;
    try {
      placed = await this.phone.call({ target: this.options.target, ...(this.options.anonymity !== undefined ? { anonymity: this.options.anonymity } : {}) });
    } finally {
      this.placing--;
    }
    const { id } = placed;
    this.followed.add(id);
    if (this.placing === 0) this.forgetEnded();
    if (!this.snapshots.has(id)) this.snapshots.set(id, placed);
    const current = (): CallSnapshot => this.snapshots.get(id) ?? placed;
    try {
      // Not settled within 64·T1 is an outcome of the load (counted as not established), not a failure of the step.
      const settled = await this.until(id, (call) => call.state === 'established' || call.state === 'terminated', settleMs);
      if (settled?.state !== 'established') {
        // a hang-up refused because the call ended meanwhile leaves it ended all the same
        if (settled === undefined) await this.phone.hangup(id).catch(() => undefined);
        // sip.js may end the session just before it hands over the final response (sip-call.ts): give it a moment,
        // then take the call as it is
        const ended = (await this.until(id, (call) => call.status !== undefined, 1000)) ?? current();
        return { established: false, ...(ended.status !== undefined ? { status: ended.status } : {}) };
      }
      progress.answered(settled.setupMs, settled.status ?? 200);
      if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
      // The callee may have hung up first; and a call that does not end within 64·T1 was established all the same.
      await this.phone.hangup(id).catch(() => undefined);
      await this.until(id, (call) => call.state === 'terminated', settleMs);
      return { established: true, status: settled.status ?? 200, ...(settled.setupMs !== undefined ? { setupMs: settled.setupMs } : {}) };
    } finally {
      this.followed.delete(id);
      this.snapshots.delete(id);
    }
  }

  /** Stop following the phone's events (calls still being placed are not followed any more). */
  close(): void {
    this.unsubscribe();
    this.snapshots.clear();
  }

  /** Ended calls nobody follows (kept while a call() was still to return). */
  private forgetEnded(): void {
    for (const [id, call] of this.snapshots) if (call.state === 'terminated' && !this.followed.has(id)) this.snapshots.delete(id);
  }

  /** The call's snapshot once `done` holds for it, re-checked on each of its events; undefined after `ms`. */
  private until(id: string, done: (call: CallSnapshot) => boolean, ms: number): Promise<CallSnapshot | undefined> {
    const now = this.snapshots.get(id);
    if (now !== undefined && done(now)) return Promise.resolve(now);
    return new Promise((resolve) => {
      const waiters = this.waiters.get(id) ?? new Set<() => void>();
      this.waiters.set(id, waiters);
      const finish = (value: CallSnapshot | undefined): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (waiters.size === 0) this.waiters.delete(id);
        resolve(value);
      };
      const check = (): void => {
        const call = this.snapshots.get(id);
        if (call !== undefined && done(call)) finish(call);
      };
      const timer = setTimeout(() => finish(undefined), ms);
      waiters.add(check);
    });
  }
}
