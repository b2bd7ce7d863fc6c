import { AddressError } from './address-error.js';
import type { AddressApplier, ApplierMode } from './address-applier.js';
import type { OwnershipJournal } from './address-journal.js';
import type { TemporaryAddress, TemporaryAddressSource } from './address-source.js';
import { interfaceIdOf } from './ipv6.js';

export type AddressPurpose = 'sending' | 'receiving';

/** An address in use: release() removes it and strikes it from the journal. */
export interface LeasedAddress extends TemporaryAddress {
  purpose: AddressPurpose;
  applier: ApplierMode;
  /** Sockets bind the address itself (false: they use the OS source, the address is only written in messages). */
  binds: boolean;
  release(): Promise<void>;
}

export interface TemporaryAddressManagerOptions {
  source: TemporaryAddressSource;
  applier: AddressApplier;
  journal?: OwnershipJournal;
  /** New addresses to try when duplicate address detection fails (RFC 4862 §5.4.5). */
  dadRetries?: number;
  /** Keep the next sending address ready, so dialling never waits for DAD. */
  prepareAhead?: boolean;
  /**
   * A removal from the interface that failed is tried again this many times while the phone runs, the first after
   * `firstDelayMs`, each wait twice the last (defaults: 6 times from 1 s, a minute in all), and once more at close().
   */
  removalRetries?: { attempts?: number; firstDelayMs?: number };
}

export interface AddressManagerStatus {
  mode: ApplierMode;
  reason: string;
  source: string;
  active: Array<{ address: string; purpose: AddressPurpose }>;
  /** Given back but not yet off the interface (its removal failed): retried, and kept in the journal until it is gone. */
  leftOnInterface: Array<{ address: string; purpose: AddressPurpose; attempts: number; reason: string }>;
  prepared: boolean;
}

/** An address whose removal from the interface failed: owed until a removal succeeds. */
interface OwedRemoval {
  address: TemporaryAddress;
  purpose: AddressPurpose;
  journalId?: number;
  /** Removals tried so far (the first, failed one included). */
  attempts: number;
  reason: string;
  timer?: NodeJS.Timeout;
  /** The retry under way, if one is. */
  retrying?: Promise<void>;
}

/**
 * One-time addresses for the phone (seed 000 Embodiment 6, Fig. 28): a fresh one per outgoing call and one per
 * receiving period, each journalled before use and removed after. The next sending address is prepared in the
 * background so that dialling does not wait for duplicate address detection.
 */
export class TemporaryAddressManager {
  private readonly active = new Map<string, { leased: LeasedAddress; journalId?: number }>();
  private prepared: Promise<{ address: TemporaryAddress; journalId?: number }> | undefined;
  private readonly owed = new Map<string, OwedRemoval>();
  private closed = false;

  constructor(private readonly options: TemporaryAddressManagerOptions) {}

  get mode(): ApplierMode {
    return this.options.applier.mode;
  }

  /** One address at a time (IPv4 from an address server): receiving and sending share it. */
  get oneAtATime(): boolean {
    return this.options.source.oneAtATime === true;
  }

  async acquire(purpose: AddressPurpose): Promise<LeasedAddress> {
    if (this.closed) throw new AddressError('APPLY_FAILED', 'the address manager is closed');
    let ready: { address: TemporaryAddress; journalId?: number };
    if (purpose === 'sending' && this.prepared) {
      const pending = this.prepared;
      this.prepared = undefined;
      ready = await pending.catch(() => this.make()); // a failed preparation: made now, and its error is this call's
    } else {
      ready = await this.make();
    }
    const leased = this.lease(ready.address, purpose, ready.journalId);
    if (purpose === 'sending' && this.options.prepareAhead !== false) this.prepareNext();
    return leased;
  }

  status(): AddressManagerStatus {
    return {
      mode: this.options.applier.mode,
      reason: this.options.applier.reason,
      source: this.options.source.kind,
      active: [...this.active.values()].map(({ leased }) => ({ address: leased.address, purpose: leased.purpose })),
      leftOnInterface: [...this.owed.values()].map((o) => ({ address: o.address.address, purpose: o.purpose, attempts: o.attempts, reason: o.reason })),
      prepared: this.prepared !== undefined,
    };
  }

  /**
   * Release every address, the prepared one too, and try once more to remove each whose removal failed before. What
   * still cannot be removed stays in status() and in the journal: the next start removes it (SPEC B).
   */
  async close(): Promise<void> {
    this.closed = true;
    const prepared = this.prepared;
    this.prepared = undefined;
    if (prepared) {
      const ready = await prepared.catch(() => undefined); // one that failed to be made holds nothing to give back
      if (ready) await this.discard(ready.address, 'sending', ready.journalId).catch(() => undefined); // owed if it failed
    }
    await Promise.allSettled([...this.active.values()].map(({ leased }) => leased.release()));
    await Promise.allSettled(
      [...this.owed.values()].map(async (owed) => {
        clearTimeout(owed.timer);
        await owed.retrying;
        if (this.owed.get(owed.address.address) === owed) await this.removeOwed(owed);
      }),
    );
  }

  private prepareNext(): void {
    if (this.prepared || this.closed) return;
    const next = this.make();
    next.catch(() => undefined); // a failed preparation is retried at the next acquire
    this.prepared = next;
  }

  /** A new address, journalled and applied; DAD failures get a new interface ID, a bounded number of times. */
  private async make(): Promise<{ address: TemporaryAddress; journalId?: number }> {
    const retries = this.options.dadRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      const address = await this.options.source.next();
      await this.forgetOwed(address.address); // handed out again (an address server's lease): in use, not to be removed
      const journalId = this.options.journal?.own({ kind: 'address', address: address.address, prefixLength: address.prefixLength, applier: this.options.applier.mode, ...(address.ifname !== undefined ? { ifname: address.ifname } : {}) });
      if (address.family === 6) this.options.journal?.rememberInterfaceId(interfaceIdOf(address.address).toString(16));
      try {
        await this.options.applier.apply(address.address, address.prefixLength, address.ifname);
        return { address, ...(journalId !== undefined ? { journalId } : {}) };
      } catch (error) {
        // An address still on the interface stays in the journal: the next start removes it (SPEC B).
        if (journalId !== undefined && !(error instanceof AddressError && error.leftBehind)) this.options.journal?.release(journalId);
        if (!(error instanceof AddressError && error.code === 'DAD_FAILED') || attempt >= retries) throw error;
      }
    }
  }

  private lease(address: TemporaryAddress, purpose: AddressPurpose, journalId: number | undefined): LeasedAddress {
    let released = false;
    const leased: LeasedAddress = {
      ...address,
      purpose,
      applier: this.options.applier.mode,
      binds: this.options.applier.binds,
      release: async () => {
        if (released) return;
        released = true;
        this.active.delete(address.address);
        await this.discard(address, purpose, journalId);
      },
    };
    this.active.set(address.address, { leased, ...(journalId !== undefined ? { journalId } : {}) });
    return leased;
  }

  /**
   * Seed 000 Fig. 28 step 515: discard the address. A removal that fails leaves it owed: tried again with backoff while
   * the phone runs and at close(), and kept in the journal until it is gone; the caller is told of the failure.
   */
  private async discard(address: TemporaryAddress, purpose: AddressPurpose, journalId: number | undefined): Promise<void> {
    // an address server's lease is released first, from the address itself while it is still there (RFC 2131 §4.4.6)
    let notGivenBack: unknown;
    await this.options.source.giveBack?.(address).catch((error: unknown) => (notGivenBack = error));
    try {
      await this.options.applier.remove(address.address, address.prefixLength, address.ifname);
    } catch (error) {
      const owed: OwedRemoval = { address, purpose, attempts: 1, reason: (error as Error).message, ...(journalId !== undefined ? { journalId } : {}) };
      this.owed.set(address.address, owed);
      this.retryLater(owed);
      throw error;
    }
    if (journalId !== undefined) this.options.journal?.release(journalId);
    // the address is off the interface; a release the server never got is the caller's to count
    if (notGivenBack !== undefined) throw notGivenBack;
  }

  /** The next try at an owed removal, after a wait twice the last one; none after the last attempt, nor once closed. */
  private retryLater(owed: OwedRemoval): void {
    const attempts = this.options.removalRetries?.attempts ?? 6;
    if (this.closed || owed.attempts > attempts) return; // close() tries once more
    const delay = (this.options.removalRetries?.firstDelayMs ?? 1000) * 2 ** (owed.attempts - 1);
    owed.timer = setTimeout(() => {
      owed.timer = undefined;
      void this.removeOwed(owed);
    }, delay);
    owed.timer.unref(); // an owed removal does not hold the process open: the journal has it for the next start
  }

  private removeOwed(owed: OwedRemoval): Promise<void> {
    owed.retrying ??= (async () => {
      try {
        await this.options.applier.remove(owed.address.address, owed.address.prefixLength, owed.address.ifname);
      } catch (error) {
        owed.attempts++;
        owed.reason = (error as Error).message;
        if (this.owed.get(owed.address.address) === owed) this.retryLater(owed);
        return;
      }
      if (this.owed.get(owed.address.address) !== owed) return; // handed out again meanwhile: forgetOwed took it over
      this.owed.delete(owed.address.address);
      if (owed.journalId !== undefined) this.options.journal?.release(owed.journalId);
    })().finally(() => (owed.retrying = undefined));
    return owed.retrying;
  }

  /** An owed address handed out again is no longer to be removed: its new journal entry stands for it. */
  private async forgetOwed(address: string): Promise<void> {
    const owed = this.owed.get(address);
    if (!owed) return;
    clearTimeout(owed.timer);
    this.owed.delete(address);
    await owed.retrying; // an `ip addr del` under way ends before the address is added again
    if (owed.journalId !== undefined) this.options.journal?.release(owed.journalId);
  }
}
