import { AddressError } from './address-error.js';
import { runCommand, type CommandRunner } from './command-runner.js';
import { parsePrefix, type Ipv6Prefix } from './ipv6.js';

/** Where a phone learns the /64 its one-time addresses live in (seed 000 Fig. 28, "address acquisition method"). */
export interface PrefixSource {
  readonly kind: 'configured' | 'interface' | 'router-advertisement';
  /** The prefix to use now, and the interface it belongs to. */
  prefix(): Promise<{ prefix: Ipv6Prefix; ifname?: string }>;
}

export class ConfiguredPrefixSource implements PrefixSource {
  readonly kind = 'configured';
  private readonly value: Ipv6Prefix;
  constructor(
    prefix: string,
    private readonly ifname?: string,
  ) {
    this.value = parsePrefix(prefix);
  }
  async prefix(): Promise<{ prefix: Ipv6Prefix; ifname?: string }> {
    return { prefix: this.value, ...(this.ifname !== undefined ? { ifname: this.ifname } : {}) };
  }
}

interface IpAddrJson {
  ifname: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope: string; temporary?: boolean; tentative?: boolean; deprecated?: boolean }>;
}

/** The /64 of a global address the interface already has (SLAAC or configured): `ip -j -6 addr show scope global`. */
export class InterfacePrefixSource implements PrefixSource {
  readonly kind = 'interface';
  constructor(
    private readonly ifname?: string,
    private readonly run: CommandRunner = runCommand,
  ) {}

  async prefix(): Promise<{ prefix: Ipv6Prefix; ifname?: string }> {
    const args = ['-j', '-6', 'addr', 'show', ...(this.ifname ? ['dev', this.ifname] : []), 'scope', 'global'];
    const result = await this.run('ip', args);
    if (result.code !== 0) throw new AddressError('NO_PREFIX', `ip ${args.join(' ')}: ${result.stderr.trim()}`);
    let parsed: IpAddrJson[];
    try {
      parsed = JSON.parse(result.stdout || '[]') as IpAddrJson[];
    } catch {
      throw new AddressError('NO_PREFIX', 'ip printed something that is not JSON');
    }
    for (const link of parsed) {
      for (const info of link.addr_info ?? []) {
        if (info.family === 'inet6' && info.scope === 'global' && info.prefixlen === 64 && !info.tentative && !info.deprecated) {
          return { prefix: parsePrefix(`${info.local}/64`), ifname: link.ifname };
        }
      }
    }
    throw new AddressError('NO_PREFIX', `no global /64 on ${this.ifname ?? 'any interface'}`);
  }
}

/**
 * Router Solicitation → Router Advertisement (RFC 4861 §6.3.7) with `rdisc6` from Debian's ndisc6: it sends the RS
 * and prints the RA's prefixes. Used instead of a raw ICMPv6 socket, which Node cannot open.
 */
export class RouterAdvertisementPrefixSource implements PrefixSource {
  readonly kind = 'router-advertisement';
  constructor(
    private readonly ifname: string,
    private readonly run: CommandRunner = runCommand,
    private readonly timeoutMs = 4000,
  ) {}

  async prefix(): Promise<{ prefix: Ipv6Prefix; ifname?: string }> {
    let result;
    try {
      // -1: stop at the first advertisement; -r 3 -w 1000: three solicitations a second apart (RFC 4861 §10)
      result = await this.run('rdisc6', ['-1', '-r', '3', '-w', '1000', this.ifname], { timeoutMs: this.timeoutMs });
    } catch (error) {
      throw new AddressError('TOOL_MISSING', `router solicitation needs rdisc6 (Debian package ndisc6): ${(error as Error).message}`);
    }
    const prefix = parseRdisc6Prefix(result.stdout);
    if (!prefix) throw new AddressError('NO_PREFIX', `no router advertisement with a /64 prefix on ${this.ifname}${result.stderr ? `: ${result.stderr.trim()}` : ''}`);
    return { prefix, ifname: this.ifname };
  }
}

/** The first autonomous /64 in rdisc6 output (`Prefix : 2001:db8:1:2::/64` with `Autonomous address conf. : Yes`). */
export function parseRdisc6Prefix(output: string): Ipv6Prefix | undefined {
  const blocks = output.split(/(?=^\s*Prefix\s*:)/m).slice(1);
  for (const block of blocks) {
    const prefix = /^\s*Prefix\s*:\s*([0-9a-fA-F:]+)\/(\d+)/m.exec(block);
    const autonomous = /Autonomous address conf\.\s*:\s*(\w+)/.exec(block)?.[1];
    if (prefix && prefix[2] === '64' && (autonomous === undefined || autonomous.toLowerCase() === 'yes')) return parsePrefix(`${prefix[1]}/64`);
  }
  return undefined;
}
