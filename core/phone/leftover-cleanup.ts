import type { SessionDescriptionHandlerFactory } from 'sip.js';
import type { OwnershipJournal } from '../address/address-journal.js';
import type { CommandRunner } from '../address/command-runner.js';
import { recoverOwnership } from '../address/recover-ownership.js';
import { osSockets, type SipSockets } from '../sip/transport/sip-sockets.js';
import { removeBinding } from './binding-removal.js';
import type { FailedStep } from './failure-tally.js';
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';

export interface LeftoverCleanupOptions {
  journal: OwnershipJournal;
  run?: CommandRunner;
  /** Credentials for an address-of-record `user@domain`, when this phone still has that account. */
  credentials: (aor: string) => { username: string; password: string } | undefined;
  sessionDescriptionHandlerFactory: SessionDescriptionHandlerFactory;
  timers?: SipTimerValues;
  /** Where the throwaway identities' sockets come from (the OS's by default). */
  sockets?: SipSockets;
  /** Counts a throwaway identity that could not be disposed. */
  failed: FailedStep;
}

export interface LeftoverCleanupResult {
  addressesRemoved: string[];
  /** Addresses that could not be removed now, with why; the journal keeps them for the next start. */
  addressesKept: string[];
  bindingsRemoved: string[];
  /** Bindings the registrar did not confirm removing; the journal keeps them for the next start. */
  bindingsKept: string[];
}

/**
 * SPEC B, "nothing is left behind": what a crashed run owned is removed at the next start — its one-time addresses
 * deleted from the interface, and its registrations erased with REGISTER Expires: 0 for each stale Contact
 * (RFC 3261 §10.2.2), sent from a throwaway identity.
 */
export async function cleanUpLeftovers(options: LeftoverCleanupOptions): Promise<LeftoverCleanupResult> {
  const { removed, kept, bindings } = await recoverOwnership(options.journal, options.run);
  const result: LeftoverCleanupResult = { addressesRemoved: removed, addressesKept: kept.map((k) => `${k.address} (${k.reason})`), bindingsRemoved: [], bindingsKept: [] };
  const sockets = options.sockets ?? osSockets;
  // One at a time would hold the first REGISTER up for 64·T1 per unreachable registrar: all together instead.
  await Promise.all(
    bindings.map(async (binding) => {
      // Struck unsent only when certainly expired at the registrar: the journal knows how long its last REGISTER asked
      // for. When it does not know (a journal from before it did), the binding may still be alive: it is erased.
      if (binding.until !== undefined && Date.now() > binding.until) {
        options.journal.release(binding.journalId);
        return;
      }
      // the registrar is unreachable now (undefined): try again at the next start
      const status = await removeBinding(binding, { ...options, sockets });
      if (status !== undefined && status < 300) {
        options.journal.release(binding.journalId);
        result.bindingsRemoved.push(binding.contact);
      } else {
        result.bindingsKept.push(binding.contact);
      }
    }),
  );
  return result;
}
