import { PhoneError } from '../api/phone-error.js';
import type { AddressConfig } from '../api/phone-types.js';
import { IpCommandApplier, LoopbackApplier, optimisticDadEnabled, SignalingOnlyApplier, type AddressApplier } from '../address/address-applier.js';
import type { OwnershipJournal } from '../address/address-journal.js';
import { LoopbackAddressSource, RandomInterfaceIdSource, type TemporaryAddressSource } from '../address/address-source.js';
import type { CommandRunner } from '../address/command-runner.js';
import { detectApplier } from '../address/detect-applier.js';
import { InterfaceIdGenerator } from '../address/interface-id.js';
import { ConfiguredPrefixSource, InterfacePrefixSource, RouterAdvertisementPrefixSource, type PrefixSource } from '../address/prefix-source.js';
import { TemporaryAddressManager } from '../address/temporary-address-manager.js';
import { DhcpAddressSource } from './dhcp-address-source.js';

export interface AddressSetupOptions {
  journal?: OwnershipJournal;
  run?: CommandRunner;
  /** An address server other than the interface's DHCP servers (the embedded lab's service gateway). */
  dhcp?: TemporaryAddressSource;
}

/** Build the one-time address manager an account's `address` settings describe. */
export async function createAddressManager(config: Extract<AddressConfig, { mode: 'temporary' }>, options: AddressSetupOptions): Promise<TemporaryAddressManager> {
  const run = options.run;
  let source: TemporaryAddressSource;
  let applier: AddressApplier;
  if (config.source === 'loopback') {
    source = new LoopbackAddressSource();
    applier = new LoopbackApplier();
  } else if (config.source === 'dhcp') {
    // seed 000 steps 504/508: an address server; the interface's DHCP servers unless the host supplies one (the lab's)
    if (options.dhcp) source = options.dhcp;
    else if (config.interface !== undefined) source = new DhcpAddressSource({ link: { interface: config.interface }, ...(run ? { run } : {}), ...(options.journal ? { journal: options.journal } : {}) });
    else throw new PhoneError('INVALID_ARGUMENT', 'the dhcp address source needs the interface whose DHCP servers lease the addresses');
    applier = await pickApplier(config, run);
  } else {
    const ids = new InterfaceIdGenerator();
    for (const iid of options.journal?.recentInterfaceIds() ?? []) ids.remember(BigInt(`0x${iid}`));
    source = new RandomInterfaceIdSource(prefixSource(config, run), ids);
    applier = await pickApplier(config, run);
  }
  return new TemporaryAddressManager({ source, applier, prepareAhead: needsPreparation(applier, config), ...(options.journal ? { journal: options.journal } : {}) });
}

/**
 * Keep the next sending address ready in the background only when dialling would otherwise wait for duplicate address
 * detection (RFC 4862 §5.4, about a second): with DAD skipped, or optimistic DAD (RFC 4429) enabled on the interface,
 * the address is usable at once and is added only when the call needs it.
 */
function needsPreparation(applier: AddressApplier, config: Extract<AddressConfig, { mode: 'temporary' }>): boolean {
  if (applier.mode !== 'kernel' || config.source === 'dhcp') return false; // one IPv4 address at a time: none ahead
  const dad = config.dad ?? 'optimistic';
  if (dad === 'skip') return false;
  if (dad === 'full' || config.interface === undefined) return true;
  return !optimisticDadEnabled(config.interface);
}

function prefixSource(config: Extract<AddressConfig, { mode: 'temporary' }>, run: CommandRunner | undefined): PrefixSource {
  switch (config.source) {
    case 'configured':
      if (!config.prefix) throw new PhoneError('INVALID_ARGUMENT', 'a configured address source needs a prefix (e.g. 2001:db8:1:2::/64)');
      return new ConfiguredPrefixSource(config.prefix, config.interface);
    case 'interface':
      return new InterfacePrefixSource(config.interface, run);
    case 'router-advertisement':
      if (!config.interface) throw new PhoneError('INVALID_ARGUMENT', 'router solicitation needs the interface to solicit on');
      return new RouterAdvertisementPrefixSource(config.interface, run);
    default:
      throw new PhoneError('INVALID_ARGUMENT', `no prefix source "${config.source}"`);
  }
}

async function pickApplier(config: Extract<AddressConfig, { mode: 'temporary' }>, run: CommandRunner | undefined): Promise<AddressApplier> {
  const dad = config.dad ?? 'optimistic';
  if (config.applier === 'signaling-only') return new SignalingOnlyApplier('chosen in the account settings');
  if (config.applier === 'kernel') return new IpCommandApplier({ dad, ...(run ? { run } : {}) });
  return detectApplier({ dad, ...(run ? { run } : {}) });
}
