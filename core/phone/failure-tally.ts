import type { EmitPhoneEvent } from './phone-events.js';

/** Handles the rejection of one best-effort step: counted, and reported when it is the first of its kind. */
export type FailedStep = (what: string) => (error: unknown) => void;

/**
 * Best-effort steps whose failure the phone cannot act on — refusing an INVITE whose caller already left, disposing an
 * identity being retired, giving an address or the lease back — are not swallowed (ARCHITECTURE.md: nothing is
 * swallowed): each failure is counted by what failed, and the first of each kind is reported as an error event
 * (BEST_EFFORT_FAILED); later ones are only counted, so a flood of them cannot flood the hosts.
 */
export class FailureTally {
  private readonly counts = new Map<string, number>();

  constructor(private readonly emit: EmitPhoneEvent) {}

  /** The rejection handler of the step `what`. */
  readonly of: FailedStep = (what) => (error) => {
    const count = (this.counts.get(what) ?? 0) + 1;
    this.counts.set(what, count);
    if (count === 1) this.emit({ type: 'error', code: 'BEST_EFFORT_FAILED', message: `${what} failed: ${error instanceof Error ? error.message : String(error)} (from now on only counted)` });
  };

  /** Failures so far, by step. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
