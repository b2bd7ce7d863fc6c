import { IpCommandApplier } from './address-applier.js';
import type { OwnedThing, OwnershipJournal } from './address-journal.js';
import { runCommand, type CommandRunner } from './command-runner.js';

/** A registration an earlier run made and did not remove: the phone sends REGISTER Expires: 0 for it. */
export interface LeftoverBinding {
  journalId: number;
  aor: string;
  contact: string;
  server: { address: string; port: number };
  transport: string;
  /** The latest the registrar may hold it (the journal's `until`); unknown when absent. */
  until?: number;
}

/** A DHCP lease an earlier run held for a one-time address and did not release: the phone sends DHCPRELEASE for it. */
export type LeftoverLease = Extract<OwnedThing, { kind: 'dhcp-lease' }> & { journalId: number };

/**
 * SPEC B, "nothing is left behind": at start, remove every address the journal says an earlier run added and did not
 * remove (`ip addr del` for kernel-applied ones; the others changed nothing in the system), and hand back the
 * registrations and DHCP leases it left, which only the phone can give back. An address that cannot be removed now
 * is `kept`, with why, and stays in the journal for the next start.
 */
export async function recoverOwnership(journal: OwnershipJournal, run: CommandRunner = runCommand): Promise<{ removed: string[]; kept: Array<{ address: string; reason: string }>; bindings: LeftoverBinding[]; leases: LeftoverLease[] }> {
  const removed: string[] = [];
  const kept: Array<{ address: string; reason: string }> = [];
  const bindings: LeftoverBinding[] = [];
  const leases: LeftoverLease[] = [];
  const kernel = new IpCommandApplier({ run });
  for (const entry of journal.outstanding()) {
    if (entry.thing.kind === 'address') {
      const { address, prefixLength, ifname, applier } = entry.thing;
      try {
        if (applier === 'kernel') await kernel.remove(address, prefixLength, ifname);
      } catch (error) {
        // still on the interface, as far as we know: the journal keeps it for the next start
        kept.push({ address, reason: (error as Error).message });
        continue;
      }
      journal.release(entry.id);
      removed.push(address);
    } else if (entry.thing.kind === 'dhcp-lease') {
      leases.push({ ...entry.thing, journalId: entry.id });
    } else {
      bindings.push({ journalId: entry.id, aor: entry.thing.aor, contact: entry.thing.contact, server: entry.thing.server, transport: entry.thing.transport, ...(entry.until !== undefined ? { until: entry.until } : {}) });
    }
  }
  return { removed, kept, bindings, leases };
}
