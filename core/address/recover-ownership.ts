import { IpCommandApplier } from './address-applier.js';
import type { OwnershipJournal } from './address-journal.js';
import { runCommand, type CommandRunner } from './command-runner.js';

/** A registration an earlier run made and did not remove: the phone sends REGISTER Expires: 0 for it. */
export interface LeftoverBinding {
  journalId: number;
  aor: string;
  contact: string;
  server: { address: string; port: number };
  transport: string;
}

/**
 * SPEC B, "nothing is left behind": at start, remove every address the journal says an earlier run added and did not
 * remove (`ip addr del` for kernel-applied ones; the others changed nothing in the system), and hand back the
 * registrations it left, which only the phone can remove.
 */
export async function recoverOwnership(journal: OwnershipJournal, run: CommandRunner = runCommand): Promise<{ removed: string[]; bindings: LeftoverBinding[] }> {
  const removed: string[] = [];
  const bindings: LeftoverBinding[] = [];
  const kernel = new IpCommandApplier({ run });
  for (const entry of journal.outstanding()) {
    if (entry.thing.kind === 'address') {
      const { address, prefixLength, ifname, applier } = entry.thing;
      if (applier === 'kernel') await kernel.remove(address, prefixLength, ifname).catch(() => undefined);
      journal.release(entry.id);
      removed.push(address);
    } else {
      bindings.push({ journalId: entry.id, aor: entry.thing.aor, contact: entry.thing.contact, server: entry.thing.server, transport: entry.thing.transport });
    }
  }
  return { removed, bindings };
}
