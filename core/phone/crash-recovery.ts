import fs from 'node:fs';
import path from 'node:path';
import { journalFileName, OwnershipJournal } from '../address/address-journal.js';
import type { CommandRunner } from '../address/command-runner.js';
import type { TransportKind } from '../api/phone-types.js';
import type { SipSockets } from '../sip/transport/sip-sockets.js';
import { defaultSipTimers, type SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import type { FailedStep } from './failure-tally.js';
import { accountTlsSettings } from './account-tls.js';
import { cleanUpLeftovers } from './leftover-cleanup.js';
import { throwawayMedia, type MediaFactoryProvider } from './media-factory.js';
import { accountCredentials, accountOfAor, type AccountRuntime } from './phone-accounts.js';
import type { EmitPhoneEvent } from './phone-events.js';

export interface CrashRecoveryOptions {
  /** Where the ownership journal lives; without it nothing survives a crash and there is nothing to recover. */
  dataDir?: string;
  commandRunner?: CommandRunner;
  accounts: () => AccountRuntime[];
  media: MediaFactoryProvider;
  mediaPortRange?: { min: number; max: number };
  timers?: SipTimerValues;
  sockets: SipSockets;
  emit: EmitPhoneEvent;
  failed: FailedStep;
}

/**
 * SPEC B, "a crash leaves nothing the next start cannot remove": the ownership journal of one-time addresses and their
 * registrations, and the clean-up of what an earlier run left in it, once, before the first identity.
 */
export class CrashRecovery {
  private journal?: OwnershipJournal;
  private recovery?: Promise<void>;
  /** Aborted when the phone shuts down: a removal still waiting for a registrar stops waiting. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: CrashRecoveryOptions) {}

  /** The ownership journal, opened on first need when a data dir is set and an account uses one-time addresses. */
  ownershipJournal(): OwnershipJournal | undefined {
    if (this.journal || this.options.dataDir === undefined) return this.journal;
    this.journal = OwnershipJournal.open(this.options.dataDir);
    return this.journal;
  }

  /** Before the first identity: remove what a crashed earlier run left behind (SPEC B). Runs once. */
  recovered(): Promise<void> {
    const accounts = this.options.accounts();
    // An earlier run's journal is read even when no account uses one-time addresses now: what it owned still goes.
    const journal = accounts.some((a) => a.config.address?.mode === 'temporary') || this.journalLeft() ? this.ownershipJournal() : undefined;
    if (!journal) return Promise.resolve();
    this.recovery ??= cleanUpLeftovers({
      journal,
      ...(this.options.commandRunner ? { run: this.options.commandRunner } : {}),
      oneTimeRemover: (binding) => {
        const account = accountOfAor(this.options.accounts(), binding.aor);
        if (account?.config.address?.mode !== 'temporary') return undefined;
        // Over another transport than the account's now: kept (reported, and struck once expired) rather than sent from
        // an address that would tie the Contact to it.
        if (account.config.transport !== binding.transport) return async (contacts) => contacts.map(() => undefined);
        return (contacts) => account.identities.removeLeftBindings(contacts, binding.server);
      },
      credentials: (aor) => accountCredentials(this.options.accounts(), aor),
      // the account's trust settings, for the transport the binding was made over (the account may have left TLS since)
      tls: (binding) => {
        const account = accountOfAor(this.options.accounts(), binding.aor);
        return account ? accountTlsSettings({ ...account.config, transport: binding.transport as TransportKind }, binding.server) : undefined;
      },
      sessionDescriptionHandlerFactory: throwawayMedia(this.options.media, this.options.mediaPortRange, ''),
      ...(this.options.timers ? { timers: this.options.timers } : {}),
      sockets: this.options.sockets,
      failed: this.options.failed,
      signal: this.stopping.signal,
      waitMs: 8 * (this.options.timers?.t1 ?? defaultSipTimers.t1),
    }).then(
      (result) => {
        if (result.bindingsKept.length > 0) this.options.emit({ type: 'error', code: 'CLEANUP_PENDING', message: `registrations left by an earlier run could not be removed yet: ${result.bindingsKept.join(', ')}` });
        if (result.addressesKept.length > 0) this.options.emit({ type: 'error', code: 'CLEANUP_PENDING', message: `addresses left by an earlier run could not be removed yet: ${result.addressesKept.join(', ')}` });
        if (result.leasesKept.length > 0) this.options.emit({ type: 'error', code: 'CLEANUP_PENDING', message: `DHCP leases left by an earlier run could not be given back yet: ${result.leasesKept.join(', ')}` });
      },
      (error: Error) => this.options.emit({ type: 'error', code: 'CLEANUP_FAILED', message: error.message }),
    );
    return this.recovery;
  }

  /**
   * At start: when an earlier run left its journal, its clean-up begins now rather than at the first REGISTER or call —
   * a run that never registers still removes the addresses and registrations a crash left (SPEC B).
   */
  begin(): void {
    if (!this.journalLeft()) return;
    try {
      void this.recovered();
    } catch (error) {
      // an unreadable journal: said, as at the first REGISTER, and the phone starts all the same
      this.options.emit({ type: 'error', code: 'CLEANUP_FAILED', message: (error as Error).message });
    }
  }

  private journalLeft(): boolean {
    return this.options.dataDir !== undefined && fs.existsSync(path.join(this.options.dataDir, journalFileName));
  }

  /** The phone is shutting down: what the recovery still waits for is given up (the journal keeps it). */
  stop(): void {
    this.stopping.abort();
  }

  /** After stop(): the recovery's last journal writes, then the journal closes. */
  async close(): Promise<void> {
    this.stop();
    await this.recovery;
    this.journal?.close();
  }
}
