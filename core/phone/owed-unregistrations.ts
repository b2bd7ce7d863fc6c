import type { OwnershipJournal } from '../address/address-journal.js';
import { removeBinding, type BindingRemovalOptions, type BindingToRemove } from './binding-removal.js';
import type { EmitPhoneEvent } from './phone-events.js';

/** A one-time binding whose unregistration failed, as its identity knew it when it went. */
export interface FailedUnregistration extends BindingToRemove {
  /** Its journal entry, struck once the binding is gone (none when the phone keeps no journal). */
  journalId?: number;
  /** The latest the registrar may hold it; past this it has expired there by itself. */
  until?: number;
  /** The registrar's answer to the REGISTER Expires: 0 (≥ 300), or undefined when none came. */
  status: number | undefined;
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
}

/**
 * SPEC B, "nothing is left behind" while the phone runs: a one-time binding the registrar would not remove (500, 401
 * without credentials, no answer) is owed. The user is told at once that a registration may be left at the server; it
 * is erased again from a throwaway identity (RFC 3261 §10.2.2) a bounded number of times with backoff, and once more
 * at shutdown; its journal entry stays until a removal succeeds, so the next start tries again.
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
   * At shutdown: one more try for each binding whose registrar answered (bounded by `waitMs`, as the shutdown's own
   * unregistrations are); a registrar that stayed silent has had its grace. Those still owed are reported (once);
   * their journal entries are left for the next start.
   */
  async finish(waitMs: number): Promise<void> {
    this.finished = true;
    await Promise.allSettled(
      [...this.owed].map(async (owed) => {
        clearTimeout(owed.timer);
        await owed.retrying;
        if (this.owed.has(owed) && owed.binding.status !== undefined) await this.retry(owed, waitMs);
      }),
    );
    for (const owed of this.owed) if (!owed.toldLeft) this.givenUp(owed);
    this.owed.clear();
  }

  private retryLater(owed: Owed): void {
    const attempts = this.options.retries?.attempts ?? 4;
    if (this.finished) return;
    if (owed.attempts > attempts) {
      this.givenUp(owed); // owed still: the shutdown tries once more
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
      const status = await removeBinding(binding, this.options, waitMs);
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
