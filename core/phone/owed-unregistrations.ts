import type { OwnershipJournal } from '../address/address-journal.js';
import { removeBinding, type BindingRemovalOptions, type BindingToRemove } from './binding-removal.js';
import type { EmitPhoneEvent } from './phone-events.js';
import { defaultSipTimers } from '../sip/transport/udp-retransmitter.js';

/** A one-time binding whose unregistration failed, as its identity knew it when it went. */
export interface FailedUnregistration extends BindingToRemove {
  /** Its journal entry, struck once the binding is gone (none when the phone keeps no journal). */
  journalId?: number;
  /** The latest the registrar may hold it; past this it has expired there by itself. */
  until?: number;
  /** The registrar's answer to the REGISTER Expires: 0 (≥ 300), or undefined when none came. */
  status: number | undefined;
  /**
   * Erase it again from the identity that made it, still open on its one-time address (resolves with the answer, or
   * undefined when none came within `waitMs`). Without one (a crashed run's binding), a throwaway identity on the OS's
   * source address does it.
   */
  removeAgain?: (waitMs?: number) => Promise<number | undefined>;
  /** Close that identity and give back its address: the binding is gone, or the tries are over. */
  letGo?: (answered: boolean) => Promise<void>;
}

export interface OwedUnregistrationsOptions extends BindingRemovalOptions {
  journal: () => OwnershipJournal | undefined;
  emit: EmitPhoneEvent;
  /** Tries after the first failure, the first after `firstDelayMs`, each wait twice the last (defaults: 4 from 4 s). */
  retries?: { attempts?: number; firstDelayMs?: number };
}

interface Owed {
  binding: FailedUnregistration;
  /** Removals tried so far (the identity's own unregistration included). */
  attempts: number;
  timer?: NodeJS.Timeout;
  retrying?: Promise<void>;
  /** The user was told it is left at the server (the tries while the phone runs are over). */
  toldLeft?: boolean;
  /** Its identity and address are going, or gone. */
  letGo?: Promise<void>;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * SPEC B, "nothing is left behind" while the phone runs: a one-time binding the registrar would not remove (500, 401
 * without credentials, no answer) is owed. The user is told at once that a registration may be left at the server; it
 * is erased again from the identity that made it, on its one-time address (RFC 3261 §10.2.2), a bounded number of
 * times with backoff, and once more at shutdown while that identity is held; then the identity and its address go.
 * Its journal entry stays until a removal succeeds, so the next start tries again.
 */
export class OwedUnregistrations {
  private readonly owed = new Set<Owed>();
  private finished = false;

  constructor(private readonly options: OwedUnregistrationsOptions) {}

  /** An unregistration failed: say so, and try again later. */
  owe(binding: FailedUnregistration): void {
    const owed: Owed = { binding, attempts: 1 };
    this.owed.add(owed);
    const why = binding.status !== undefined ? `answered ${binding.status}` : 'no answer';
    this.options.emit({ type: 'error', code: 'CLEANUP_PENDING', message: `the registration of ${binding.contact} (${binding.aor}) may be left at the server: its removal failed (${why}); trying again` });
    this.retryLater(owed);
  }

  /**
   * At shutdown, within `waitMs` in all (as the shutdown's own unregistrations are): a try under way is waited for, and
   * each binding whose registrar answered and whose identity is still open gets one more; a registrar that stayed silent
   * has had its grace. Then every identity still held goes. Those still owed are reported (once); their journal entries
   * are left for the next start.
   */
  async finish(waitMs: number): Promise<void> {
    this.finished = true;
    const deadline = Date.now() + waitMs;
    const left = (): number => Math.max(0, deadline - Date.now());
    await Promise.allSettled(
      [...this.owed].map(async (owed) => {
        clearTimeout(owed.timer);
        if (owed.retrying) await Promise.race([owed.retrying, delay(left())]);
        if (this.owed.has(owed) && !owed.retrying && owed.binding.status !== undefined && owed.binding.removeAgain && !owed.letGo) await this.retry(owed, left());
      }),
    );
    for (const owed of this.owed) {
      if (!owed.toldLeft) this.givenUp(owed);
      await this.letGo(owed);
    }
    this.owed.clear();
  }

  private retryLater(owed: Owed): void {
    const attempts = this.options.retries?.attempts ?? 4;
    if (this.finished) return;
    if (owed.attempts > attempts) {
      // owed still (the journal keeps it for the next start); its one-time address is not held any longer
      this.givenUp(owed);
      void this.letGo(owed);
      return;
    }
    const delay = (this.options.retries?.firstDelayMs ?? 4000) * 2 ** (owed.attempts - 1);
    owed.timer = setTimeout(() => {
      owed.timer = undefined;
      void this.retry(owed);
    }, delay);
    owed.timer.unref(); // an owed removal does not hold the process open: the journal has it for the next start
  }

  private retry(owed: Owed, waitMs?: number): Promise<void> {
    owed.retrying ??= (async () => {
      const { binding } = owed;
      if (binding.until !== undefined && Date.now() > binding.until) {
        this.removed(owed); // expired at the registrar by itself: nothing is left there
        return;
      }
      // a registrar that says 100 Trying and no more would keep a try, and its one-time address, waiting: Timer F's
      // 64·T1 at most (RFC 3261 §17.1.2.2), as any non-INVITE transaction
      const limit = waitMs ?? 64 * (this.options.timers ?? defaultSipTimers).t1;
      const status = binding.removeAgain ? await binding.removeAgain(limit) : await removeBinding(binding, this.options, limit);
      owed.attempts++;
      if (status !== undefined && status < 300) {
        this.removed(owed);
        return;
      }
      binding.status = status;
      this.retryLater(owed);
    })().finally(() => (owed.retrying = undefined));
    return owed.retrying;
  }

  private removed(owed: Owed): void {
    this.owed.delete(owed);
    if (owed.binding.journalId !== undefined) this.options.journal()?.release(owed.binding.journalId);
    void this.letGo(owed);
  }

  /**
   * The identity that made the binding, and its address, go (once). One whose registrar did not answer, or whose try
   * still waits, goes at once, without waiting for that REGISTER's transaction.
   */
  private letGo(owed: Owed): Promise<void> {
    const answered = owed.binding.status !== undefined && owed.retrying === undefined;
    owed.letGo ??= owed.binding.letGo?.(answered).catch(this.options.failed('letting go of a one-time identity')) ?? Promise.resolve();
    return owed.letGo;
  }

  private givenUp(owed: Owed): void {
    owed.toldLeft = true;
    const { binding } = owed;
    const why = binding.status !== undefined ? `answered ${binding.status}` : 'no answer';
    const until = binding.until !== undefined ? ` until it expires there (${new Date(binding.until).toISOString()})` : '';
    const next = binding.journalId !== undefined ? '; the next start tries again' : '';
    this.options.emit({ type: 'error', code: 'CLEANUP_PENDING', message: `the registration of ${binding.contact} (${binding.aor}) is left at the server${until}: ${owed.attempts} removals failed (last: ${why})${next}` });
  }
}
