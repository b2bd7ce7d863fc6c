import type { RegistrationCause, RegistrationState } from '../api/phone-types.js';

export interface RegistrationRetryOptions {
  /** The first wait, in ms (RFC 5626 §4.5's base-time when every flow failed: 30 s). */
  baseMs?: number;
  /** The longest wait, in ms (§4.5's max-time: 1800 s). */
  maxMs?: number;
  random?: () => number;
}

/**
 * A registration lost in a way that trying again can mend: it expired unrefreshed (a refresh went unanswered), or it
 * failed for no answer, an unreachable server or a 5xx. Not a refusal (a wrong password, an unknown user: a 4xx or 6xx).
 */
export function lostForNow(state: RegistrationState, detail: { cause?: RegistrationCause; status?: number } = {}): boolean {
  if (state === 'unregistered') return true;
  const status = detail.status ?? 0;
  return state === 'failed' && (detail.cause === 'unreachable' || detail.cause === 'no-answer' || (status >= 500 && status < 600));
}

/**
 * Keeps an account registered while the user wants it so, as Linphone and MicroSIP do: when its registration fails or
 * is lost without the user asking — a refresh that timed out during a server restart, a refusal, the TCP connection
 * gone — it registers again after a wait that doubles from 30 s up to 30 min, each drawn at 50-100 % of it (RFC 5626
 * §4.5, so phones that lost one server do not all come back at once). A registration that succeeds resets the waits;
 * one the user ends, or `stop`, ends the retries. A refusal that trying again cannot change (a wrong password, an
 * unknown user: a 4xx) waits for the user: repeating it would only get the account locked out. A server's Retry-After
 * lengthens the wait.
 */
export class RegistrationRetry {
  private timer: NodeJS.Timeout | undefined;
  private dueAt: number | undefined;
  private failures = 0;
  private stopped = false;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(
    private readonly register: () => Promise<unknown>,
    /** Whether the user still wants the account registered. */
    private readonly wanted: () => boolean,
    options: RegistrationRetryOptions = {},
  ) {
    this.baseMs = options.baseMs ?? 30_000;
    this.maxMs = options.maxMs ?? 1_800_000;
    this.random = options.random ?? Math.random;
  }

  /** The account's registration is now `state` (a failure's `cause` and `status` say whether trying again can help). */
  changed(state: RegistrationState, detail: { cause?: RegistrationCause; status?: number; retryAfterMs?: number } = {}): void {
    if (state === 'registered') {
      this.failures = 0;
      this.cancel();
      return;
    }
    if (this.stopped || !this.wanted()) {
      this.cancel(); // the user unregistered: no try is due (and none is shown)
      return;
    }
    if (lostForNow(state, detail) && this.timer === undefined) this.schedule(detail.retryAfterMs);
  }

  /** When the next try is due, if one is (ms since the epoch). */
  get nextAttemptAt(): number | undefined {
    return this.dueAt;
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  /**
   * A server that refused with a Retry-After (a 503 while it is overloaded or in maintenance, RFC 3261 §21.5.4) is not
   * asked again sooner than that, nor later than the longest wait (a server cannot park the account for days).
   */
  private schedule(retryAfterMs = 0): void {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.failures, 30));
    const wait = Math.max(Math.round(ceiling * (0.5 + 0.5 * this.random())), Math.min(retryAfterMs, this.maxMs));
    this.failures++;
    this.dueAt = Date.now() + wait;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dueAt = undefined;
      if (this.stopped || !this.wanted()) return;
      // a failure comes back through `changed` ('failed'), which waits longer before the next try
      void this.register().catch(() => undefined);
    }, wait);
    this.timer.unref?.();
  }

  private cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.dueAt = undefined;
  }
}
