import fs from 'node:fs';
import { isIPv6 } from 'node:net';
import { AddressError } from './address-error.js';
import { waitForClosedConnections } from './closing-connections.js';
import { runCommand, type CommandRunner } from './command-runner.js';

/**
 * How a one-time address reaches the network (SPEC B):
 * - `kernel`: added to the interface and removed after use; sockets bind it (needs CAP_NET_ADMIN);
 * - `loopback`: an address in 127.0.0.0/8, usable by binding alone on Linux (the embedded lab's address server);
 * - `signaling-only`: nothing changes in the system; the address goes into Via/Contact/SDP while sockets use the OS
 *   source (so the registrar must route by the flow).
 */
export type ApplierMode = 'kernel' | 'loopback' | 'signaling-only';

export interface AddressApplier {
  readonly mode: ApplierMode;
  /** Why this mode is on (shown in the status bar). */
  readonly reason: string;
  /** Make the address usable; resolves once sockets can bind it (DAD done or skipped). */
  apply(address: string, prefixLength: number, ifname: string | undefined): Promise<void>;
  remove(address: string, prefixLength: number, ifname: string | undefined): Promise<void>;
  /** Whether sockets should bind the address (else they bind the OS choice). */
  readonly binds: boolean;
}

export class SignalingOnlyApplier implements AddressApplier {
  readonly mode = 'signaling-only';
  readonly binds = false;
  constructor(readonly reason = 'no permission to change interface addresses (CAP_NET_ADMIN)') {}
  async apply(): Promise<void> {}
  async remove(): Promise<void> {}
}

export class LoopbackApplier implements AddressApplier {
  readonly mode = 'loopback';
  readonly binds = true;
  readonly reason = 'loopback address server (127.0.0.0/8 binds without configuration)';
  async apply(): Promise<void> {}
  async remove(): Promise<void> {}
}

interface IpAddrFlags {
  addr_info?: Array<{ local: string; tentative?: boolean; dadfailed?: boolean; optimistic?: boolean }>;
}

export interface IpCommandApplierOptions {
  run?: CommandRunner;
  /** Duplicate address detection: `optimistic` (RFC 4429, usable at once), `full` (wait it out) or `skip` (nodad). */
  dad?: 'optimistic' | 'full' | 'skip';
  /**
   * Preferred lifetime of an IPv6 address, 0 by default: the address is deprecated from the start (RFC 4862 §5.5.4),
   * so the kernel never picks it as the source of a socket that did not bind it (RFC 6724 §5 rule 3). The phone binds
   * every socket of a call to the call's address; with a preferred lifetime, every other program on the host, and the
   * phone's own unbound sockets, would send from the one-time address too, linking them to the call (seed 000: the
   * address is the call's alone). Binding to a deprecated address, and receiving on it, work as before.
   */
  preferredLifetimeS?: number;
  /** How long a forgotten address can outlive a crash even if nobody cleans up (RFC 4862 §5.5.4). */
  validLifetimeS?: number;
  /** How long to wait for DAD. */
  dadTimeoutMs?: number;
  /** `ip addr replace` instead of `add`: an address already on the interface is kept, not an error (a lease bound again). */
  replace?: boolean;
  /** How long a removal waits for TCP connections from the address to finish closing (closing-connections.ts). */
  closingTimeoutMs?: number;
}

/**
 * The kernel applier: `ip -6 addr add ADDR/64 dev IF preferred_lft 0 valid_lft V [optimistic|nodad]`, then waits until
 * the address is neither tentative nor DAD-failed (`ip -j -6 addr show`), and `ip -6 addr del` at the end, once no TCP
 * connection from it is still closing (closing-connections.ts). A DAD failure is reported as DAD_FAILED so the manager
 * can pick a new interface identifier.
 */
export class IpCommandApplier implements AddressApplier {
  readonly mode = 'kernel';
  readonly binds = true;
  readonly reason: string;
  private readonly run: CommandRunner;

  constructor(private readonly options: IpCommandApplierOptions = {}) {
    this.run = options.run ?? runCommand;
    this.reason = `addresses added to the interface (DAD: ${options.dad ?? 'optimistic'})`;
  }

  async apply(address: string, prefixLength: number, ifname: string | undefined): Promise<void> {
    if (!ifname) throw new AddressError('APPLY_FAILED', `no interface to put ${address} on`);
    const v6 = isIPv6(address);
    const dad = this.options.dad ?? 'optimistic';
    const args = [
      ...(v6 ? ['-6'] : []),
      'addr',
      this.options.replace ? 'replace' : 'add',
      `${address}/${prefixLength}`,
      'dev',
      ifname,
      ...(v6 ? ['preferred_lft', String(this.options.preferredLifetimeS ?? 0), 'valid_lft', String(this.options.validLifetimeS ?? 7200)] : []),
      ...(v6 && dad === 'optimistic' ? ['optimistic'] : v6 && dad === 'skip' ? ['nodad'] : []),
    ];
    const result = await this.run('ip', args);
    if (result.code !== 0) {
      const message = result.stderr.trim();
      if (/Operation not permitted/i.test(message)) throw new AddressError('NOT_PERMITTED', `ip ${args.join(' ')}: ${message}`);
      throw new AddressError('APPLY_FAILED', `ip ${args.join(' ')}: ${message}`);
    }
    // RFC 4429 §3.3: with optimistic DAD on for the interface the address is usable at once; no need to ask.
    if (v6 && dad !== 'skip' && !(dad === 'optimistic' && optimisticDadEnabled(ifname))) await this.waitUsable(address, ifname);
  }

  async remove(address: string, prefixLength: number, ifname: string | undefined): Promise<void> {
    if (!ifname) return;
    // Not under a connection still closing: its FIN would go on being retransmitted from an address that is gone.
    await waitForClosedConnections(address, this.options.closingTimeoutMs !== undefined ? { timeoutMs: this.options.closingTimeoutMs } : {});
    const result = await this.run('ip', [...(isIPv6(address) ? ['-6'] : []), 'addr', 'del', `${address}/${prefixLength}`, 'dev', ifname]);
    // "Cannot assign requested address": it is already gone, which is what we wanted.
    if (result.code !== 0 && !/Cannot assign requested address|No such device/i.test(result.stderr)) {
      throw new AddressError('APPLY_FAILED', `ip addr del ${address}: ${result.stderr.trim()}`);
    }
  }

  /**
   * The route a DHCP client on an interface without IPv4 broadcasts through (RFC 2131 §4.1: DISCOVER goes to
   * 255.255.255.255; without the route it fails with ENETUNREACH, ENVIRONMENT.md).
   */
  async ensureBroadcastRoute(ifname: string): Promise<void> {
    const args = ['route', 'replace', '255.255.255.255/32', 'dev', ifname];
    const result = await this.run('ip', args);
    if (result.code !== 0) throw new AddressError('APPLY_FAILED', `ip ${args.join(' ')}: ${result.stderr.trim()}`);
  }

  private async flags(address: string, ifname: string): Promise<{ present: boolean; tentative: boolean; failed: boolean; optimistic: boolean }> {
    const result = await this.run('ip', ['-j', '-6', 'addr', 'show', 'dev', ifname]);
    const links = JSON.parse(result.stdout || '[]') as IpAddrFlags[];
    const info = links.flatMap((l) => l.addr_info ?? []).find((a) => a.local === address);
    return { present: info !== undefined, tentative: info?.tentative === true, failed: info?.dadfailed === true, optimistic: info?.optimistic === true };
  }

  /** The error of an address that never became usable, taken off the interface again (or `leftBehind`, saying why not). */
  private async withdrawn(address: string, ifname: string, code: 'DAD_FAILED' | 'APPLY_FAILED', message: string): Promise<AddressError> {
    try {
      await this.remove(address, 64, ifname);
      return new AddressError(code, message);
    } catch (error) {
      return new AddressError(code, `${message}; it could not be removed either: ${(error as Error).message}`, true);
    }
  }

  /**
   * RFC 4862 §5.4: tentative until DAD ends; "dadfailed" when another node has it. An optimistic address (RFC 4429
   * §3.3, when the interface's optimistic_dad sysctl is on) is usable while still tentative.
   */
  private async waitUsable(address: string, ifname: string): Promise<void> {
    const deadline = Date.now() + (this.options.dadTimeoutMs ?? 5000);
    for (;;) {
      const state = await this.flags(address, ifname);
      if (state.failed) throw await this.withdrawn(address, ifname, 'DAD_FAILED', `${address} is already in use on the link (duplicate address detection)`);
      if (state.present && (!state.tentative || state.optimistic)) return;
      if (Date.now() > deadline) throw await this.withdrawn(address, ifname, 'APPLY_FAILED', `${address} did not become usable within ${this.options.dadTimeoutMs ?? 5000} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Whether the kernel honours the `optimistic` flag on this interface (sysctl net.ipv6.conf.IF.optimistic_dad). */
export function optimisticDadEnabled(ifname: string): boolean {
  if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(ifname)) return false;
  try {
    return fs.readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/optimistic_dad`, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}
