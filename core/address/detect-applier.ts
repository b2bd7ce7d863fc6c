import { IpCommandApplier, SignalingOnlyApplier, type AddressApplier, type IpCommandApplierOptions } from './address-applier.js';
import fs from 'node:fs';
import { runCommand, type CommandRunner } from './command-runner.js';

function readStatus(): string {
  try {
    return fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    return ''; // not Linux: no way to change addresses from here
  }
}

/**
 * The kernel applier when this process may change interface addresses (root or CAP_NET_ADMIN, e.g. inside a network
 * namespace in tests) and `ip` exists; otherwise signaling-only, with the reason for the status bar.
 */
export async function detectApplier(options: IpCommandApplierOptions & { run?: CommandRunner } = {}): Promise<AddressApplier> {
  const run = options.run ?? runCommand;
  try {
    const probe = await run('ip', ['-j', 'link', 'show', 'lo']);
    if (probe.code !== 0) return new SignalingOnlyApplier(`ip cannot read links: ${probe.stderr.trim()}`);
  } catch {
    return new SignalingOnlyApplier('the ip tool (iproute2) is not installed');
  }
  const caps = /CapEff:\s*([0-9a-f]+)/i.exec(readStatus())?.[1];
  const netAdmin = caps !== undefined && (BigInt(`0x${caps}`) & (1n << 12n)) !== 0n; // CAP_NET_ADMIN is bit 12
  if (!netAdmin) return new SignalingOnlyApplier();
  return new IpCommandApplier({ ...options, run });
}
