import type { SessionDescriptionHandlerFactory } from 'sip.js';
import type { OwnershipJournal } from '../address/address-journal.js';
import type { CommandRunner } from '../address/command-runner.js';
import { recoverOwnership } from '../address/recover-ownership.js';
import { osSockets, type SipSockets } from '../sip/transport/sip-sockets.js';
import { removeBinding, type BindingRemovalOptions, type BindingToRemove } from './binding-removal.js';
import { releaseLeftLease } from './dhcp-address-source.js';
import type { FailedStep } from './failure-tally.js';
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';

export interface LeftoverCleanupOptions {
  journal: OwnershipJournal;
  run?: CommandRunner;
  /**
   * The account that made these bindings, when this phone still has it on one-time addresses at that server: it erases
   * them from a fresh one-time address of its own (AccountIdentities.removeLeftBindings), answers in order.
   */
  oneTimeRemover: (binding: BindingToRemove) => ((contacts: string[]) => Promise<Array<number | undefined>>) | undefined;
  /** Credentials for an address-of-record `user@domain`, when this phone still has that account. */
  credentials: (aor: string) => { username: string; password: string } | undefined;
  /** How a throwaway identity checks the registrar of a TLS or WSS binding (the account's settings, when it is kept). */
  tls?: BindingRemovalOptions['tls'];
  sessionDescriptionHandlerFactory: SessionDescriptionHandlerFactory;
  timers?: SipTimerValues;
  /** Where the throwaway identities' sockets come from (the OS's by default). */
  sockets?: SipSockets;
  /** Counts a throwaway identity that could not be disposed. */
  failed: FailedStep;
  /** A throwaway's wait for its registrar: given up when this aborts (a shutdown), or after `waitMs`. */
  signal?: AbortSignal;
  waitMs?: number;
}

export interface LeftoverCleanupResult {
  /** One-time addresses' DHCP leases given back (DHCPRELEASE), and those that could not be now (kept for the next start). */
  leasesReleased: string[];
  leasesKept: string[];
  addressesRemoved: string[];
  /** Addresses that could not be removed now, with why; the journal keeps them for the next start. */
  addressesKept: string[];
  bindingsRemoved: string[];
  /** Bindings the registrar did not confirm removing; the journal keeps them for the next start. */
  bindingsKept: string[];
}

/**
 * SPEC B, "nothing is left behind": what a crashed run owned is removed at the next start — its one-time addresses
 * deleted from the interface, their DHCP leases given back, and its registrations erased with REGISTER Expires: 0 for each stale Contact
 * (RFC 3261 §10.2.2). An account still on one-time addresses sends them from a fresh one-time address; a binding whose
 * account is gone, or has left one-time addresses or that server, from a throwaway identity on the host's address.
 */
export async function cleanUpLeftovers(options: LeftoverCleanupOptions): Promise<LeftoverCleanupResult> {
  const { removed, kept, bindings, leases } = await recoverOwnership(options.journal, options.run);
  const result: LeftoverCleanupResult = { leasesReleased: [], leasesKept: [], addressesRemoved: removed, addressesKept: kept.map((k) => `${k.address} (${k.reason})`), bindingsRemoved: [], bindingsKept: [] };
  // the leases of one-time IPv4 addresses: given back, so the server does not hold them for the rest of their time
  await Promise.all(
    leases.map(async (lease) => {
      try {
        await releaseLeftLease(lease, options.run);
        options.journal.release(lease.journalId);
        result.leasesReleased.push(lease.address);
      } catch (error) {
        result.leasesKept.push(`${lease.address} (${(error as Error).message})`);
      }
    }),
  );
  const sockets = options.sockets ?? osSockets;
  // Struck unsent only when certainly expired at the registrar: the journal knows how long its last REGISTER asked for.
  // When it does not know (a journal from before it did), the binding may still be alive: it is erased.
  const alive = bindings.filter((binding) => {
    if (binding.until === undefined || Date.now() <= binding.until) return true;
    options.journal.release(binding.journalId);
    return false;
  });
  const settle = (binding: (typeof alive)[number], status: number | undefined): void => {
    // the registrar is unreachable now (undefined), or refused: tried again at the next start
    if (status !== undefined && status < 300) {
      options.journal.release(binding.journalId);
      result.bindingsRemoved.push(binding.contact);
    } else {
      result.bindingsKept.push(binding.contact);
    }
  };
  // One registrar after another would hold the start up for 64·T1 per unreachable one: all registrars together.
  await Promise.all(
    groupByRegistrar(alive).map(async (group) => {
      const remover = options.oneTimeRemover(group[0]!);
      if (remover) {
        const answers = await remover(group.map((b) => b.contact)).catch(() => group.map(() => undefined));
        group.forEach((binding, index) => settle(binding, answers[index]));
        return;
      }
      await Promise.all(group.map(async (binding) => settle(binding, await removeBinding(binding, { ...options, sockets }))));
    }),
  );
  return result;
}

/** The bindings of one address-of-record at one registrar over one transport: one account's, removed together. */
function groupByRegistrar<B extends BindingToRemove>(bindings: readonly B[]): B[][] {
  const groups = new Map<string, B[]>();
  for (const binding of bindings) {
    const key = JSON.stringify([binding.aor, binding.server.address, binding.server.port, binding.transport]);
    groups.set(key, [...(groups.get(key) ?? []), binding]);
  }
  return [...groups.values()];
}
