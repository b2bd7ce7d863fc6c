import { randomInt } from 'node:crypto';
import { AddressError } from './address-error.js';
import type { InterfaceIdGenerator } from './interface-id.js';
import { withInterfaceId } from './ipv6.js';
import type { PrefixSource } from './prefix-source.js';

/** One address for one use (a call, or one receiving period). */
export interface TemporaryAddress {
  address: string;
  prefixLength: number;
  ifname?: string;
  family: 4 | 6;
  /** Where it came from, for the status bar and the call log. */
  source: string;
}

/** Hands out fresh addresses: SLAAC-style on a prefix, or from an address server. */
export interface TemporaryAddressSource {
  readonly kind: string;
  next(): Promise<TemporaryAddress>;
  /**
   * An address server's address is handed back once the phone is done with it (DHCPRELEASE, seed 000 step 515), while
   * it is still on the interface. Sources that make addresses themselves have nothing to give back.
   */
  giveBack?(address: TemporaryAddress): Promise<void>;
  /**
   * An IPv4 phone holds one address at a time (seed 000: "two addresses cannot be set on one terminal at the same
   * time"): its receiving address is also the one it calls from.
   */
  readonly oneAtATime?: boolean;
}

/** Seed 000 Fig. 28 steps 503-507: prefix (RS/RA, interface, configured) + a random interface ID (step 506). */
export class RandomInterfaceIdSource implements TemporaryAddressSource {
  constructor(
    private readonly prefixes: PrefixSource,
    private readonly ids: InterfaceIdGenerator,
  ) {}

  get kind(): string {
    return this.prefixes.kind;
  }

  async next(): Promise<TemporaryAddress> {
    const { prefix, ifname } = await this.prefixes.prefix();
    return { address: withInterfaceId(prefix, this.ids.next()), prefixLength: 64, family: 6, source: `${this.prefixes.kind} ${prefix.network}/64`, ...(ifname !== undefined ? { ifname } : {}) };
  }
}

/**
 * The embedded lab's address server for IPv4 (seed 000: "whenever an IP call is made through IPv4, the address should
 * be obtained from an external server"): a random, never reused address in 127.0.0.0/8, which Linux lets any process
 * bind without configuration — so every call really comes from its own address, without root.
 */
export class LoopbackAddressSource implements TemporaryAddressSource {
  readonly kind = 'loopback';
  private readonly used = new Set<string>();

  async next(): Promise<TemporaryAddress> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      // 127.0.0.0/16 is left to the host's own services (127.0.0.1, 127.0.1.1 …).
      const address = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
      if (this.used.has(address)) continue;
      this.used.add(address);
      return { address, prefixLength: 8, family: 4, source: 'loopback address server' };
    }
    throw new AddressError('POOL_EXHAUSTED', 'no unused loopback address found');
  }
}
