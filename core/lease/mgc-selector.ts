import type { MgcAddress } from './dhcp-options.js';
import { LeaseError } from './lease-error.js';

/** Why a request to a soft switch failed in a way that moves to the other one. */
export type MgcFailure = 'timeout' | 'transport' | 'unavailable';

export type MgcSelectorEvent =
  | { type: 'failover'; from: MgcAddress; to: MgcAddress; reason: MgcFailure }
  | { type: 'failback'; to: MgcAddress; reason: 'primary answered' }
  | { type: 'unreachable'; tried: MgcAddress[]; reason: MgcFailure };

export interface MgcSelectorOptions {
  /** [primary, secondary?] as leased (option 225) or configured. */
  mgc: MgcAddress[];
  /** While on the secondary, how long until the primary is tried again (default 30 s). */
  primaryRetryMs?: number;
  now?: () => number;
}

/** One registration or call setup: which soft switch to try, and what to do when it fails. */
export interface MgcAttempt {
  /** The soft switch to send to now. */
  readonly target: MgcAddress;
  /**
   * The request to `target` failed: the next soft switch to try, or a LeaseError MGC_UNREACHABLE when both were
   * tried (Fig. 6A 626 → 606, Fig. 7A 726 → 706).
   */
  failed(reason: MgcFailure): MgcAddress;
  /** The request to `target` got an answer. */
  succeeded(): void;
}

/**
 * Which soft switch the phone talks to (seed 003 Figs. 6A 612-628 and 7A 712-728): the primary first; on a timeout or
 * transport error the secondary, once per operation; after both, the operation fails. The phone stays on the
 * secondary until the primary answers again — a probe is due every `primaryRetryMs` (the phone sends it, e.g. a
 * REGISTER), or any operation that reaches the primary moves it back. Pure: no sockets, no timers; time is injected.
 */
export class MgcSelector {
  private readonly list: MgcAddress[];
  private activeIndex = 0;
  private leftPrimaryAt: number | undefined;
  private readonly listeners = new Set<(event: MgcSelectorEvent) => void>();
  private readonly now: () => number;
  private readonly primaryRetryMs: number;

  constructor(options: MgcSelectorOptions) {
    if (options.mgc.length === 0) throw new LeaseError('NO_MGC', 'no soft switch address (Fig. 6A 608: registration fails)');
    this.list = options.mgc.slice(0, 2).map((m) => ({ ...m }));
    this.now = options.now ?? Date.now;
    this.primaryRetryMs = options.primaryRetryMs ?? 30_000;
  }

  get primary(): MgcAddress {
    return { ...this.list[0]! };
  }

  get secondary(): MgcAddress | undefined {
    return this.list[1] ? { ...this.list[1] } : undefined;
  }

  /** The soft switch new operations start with. */
  get active(): MgcAddress {
    return { ...this.list[this.activeIndex]! };
  }

  get onSecondary(): boolean {
    return this.activeIndex === 1;
  }

  on(listener: (event: MgcSelectorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Start one operation: the active soft switch first, then the other, each at most once. */
  attempt(): MgcAttempt {
    const order = this.list.length === 1 ? [this.activeIndex] : [this.activeIndex, 1 - this.activeIndex];
    let step = 0;
    const tried: MgcAddress[] = [];
    const list = this.list;
    return {
      get target() {
        return { ...list[order[step]!]! };
      },
      failed: (reason) => {
        const index = order[step]!;
        tried.push({ ...this.list[index]! });
        step++;
        if (step >= order.length) {
          this.emit({ type: 'unreachable', tried, reason });
          throw new LeaseError('MGC_UNREACHABLE', `no soft switch answered (${tried.map(format).join(', ')}: ${reason})`);
        }
        const next = order[step]!;
        if (index === 0 && next === 1 && this.activeIndex === 0) this.switchTo(1, reason);
        return { ...this.list[next]! };
      },
      succeeded: () => {
        if (order[step] === 0 && this.activeIndex === 1) this.failback();
      },
    };
  }

  /** While on the secondary: whether it is time to see if the primary is back. */
  primaryProbeDue(): boolean {
    return this.activeIndex === 1 && this.leftPrimaryAt !== undefined && this.now() - this.leftPrimaryAt >= this.primaryRetryMs;
  }

  /** The outcome of a probe of the primary: back → fail back; still down → wait another interval. */
  primaryProbed(answered: boolean): void {
    if (this.activeIndex !== 1) return;
    if (answered) this.failback();
    else this.leftPrimaryAt = this.now();
  }

  private switchTo(index: number, reason: MgcFailure): void {
    const from = this.list[this.activeIndex]!;
    this.activeIndex = index;
    this.leftPrimaryAt = this.now();
    this.emit({ type: 'failover', from: { ...from }, to: { ...this.list[index]! }, reason });
  }

  private failback(): void {
    this.activeIndex = 0;
    this.leftPrimaryAt = undefined;
    this.emit({ type: 'failback', to: this.primary, reason: 'primary answered' });
  }

  private emit(event: MgcSelectorEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/** SIP outcomes that move to the other soft switch: no answer (408 / Timer B/F), transport errors, 503 (RFC 3263 §4.3). */
export function mgcFailureOf(outcome: { status?: number; transportError?: boolean; timedOut?: boolean }): MgcFailure | undefined {
  if (outcome.transportError) return 'transport';
  if (outcome.timedOut || outcome.status === 408) return 'timeout';
  if (outcome.status === 503) return 'unavailable';
  return undefined;
}

function format(m: MgcAddress): string {
  return `${m.address}:${m.port}`;
}
