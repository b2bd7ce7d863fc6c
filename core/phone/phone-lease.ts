import { PhoneError } from '../api/phone-error.js';
import type { LeaseStatus } from '../api/phone-types.js';
import { PortPool } from '../lease/port-pool.js';
import { leaseHealth, type LeaseWatch } from './lease-health.js';
import type { FailedStep } from './failure-tally.js';
import type { EmitPhoneEvent } from './phone-events.js';

/** What a DHCP lease gives the phone (seed 003): the port range every socket must use, and the NAT's addresses. */
export interface PhoneLease {
  pool: PortPool;
  /** The leased (private) address and the NAT public address, told to the registrar in REGISTER. */
  privateAddress: string;
  natAddress?: string;
  /** The lease client that keeps the lease (renewal, rebinding, expiry); without it the lease never changes. */
  watch?: LeaseWatch;
  /** Gives the lease back (RFC 2131 §4.4.6 RELEASE); the phone calls it last on shutdown, once its sockets are closed. */
  release?: () => Promise<void>;
}

/** The lease as the call log shows it: the leased address, its port range, and the NAT's public address. */
export function leaseText(lease: PhoneLease): string {
  return `${lease.privateAddress} ports ${lease.pool.range.min}-${lease.pool.range.max}${lease.natAddress !== undefined ? ` via NAT ${lease.natAddress}` : ''}`;
}

export function leaseStatus(lease: PhoneLease): LeaseStatus {
  const pool = lease.pool.snapshot();
  const state = lease.watch ? leaseHealth(lease.watch, { address: lease.privateAddress, ports: pool.range }) : 'bound';
  const expiresAt = state !== 'lost' ? lease.watch?.lease?.expiresAt : undefined;
  return {
    state,
    ...(expiresAt !== undefined && Number.isFinite(expiresAt) ? { expiresAt } : {}),
    address: lease.privateAddress,
    ports: { ...pool.range },
    inUse: pool.inUse.length,
    capacity: pool.capacity,
    ...(lease.natAddress !== undefined ? { nat: lease.natAddress } : {}),
  };
}

/** A port from the lease, or the typed refusal a full range gets (never a fallback to an OS-chosen port). */
export function takeLeased<T>(take: () => T): T {
  try {
    return take();
  } catch (error) {
    throw new PhoneError('PORT_RANGE_EXHAUSTED', (error as Error).message);
  }
}

export interface LeaseKeeperOptions {
  /** The lease the phone starts on, if it runs on one. */
  lease: PhoneLease | undefined;
  emit: EmitPhoneEvent;
  failed: FailedStep;
  stopped: () => boolean;
  /** Whether a call runs (its sockets are on the current lease). */
  busy: () => boolean;
  /** Runs the move in line with settings changes (each re-creates accounts). */
  serialized: (action: () => Promise<void>) => Promise<void>;
  /** Closes every account's identities and opens them again on the current lease; the ids of those to register again. */
  reopenAccounts: () => Promise<string[]>;
  /** REGISTER an account again (its errors are the keeper's caller's to report). */
  registerAgain: (accountId: string) => void;
  /**
   * The lease's address is about to go (it expires, or was refused): end the calls on it and remove the bindings made
   * from it, while it can still be sent from (RFC 2131 §4.4.5). The ids of the accounts to register again once the
   * phone has a lease.
   */
  relinquish?: () => Promise<string[]>;
}

/**
 * The lease the phone runs on, watched (seed 003, RFC 2131 §4.4.5) and moved onto a new one once no call runs:
 * options.lease until the client binds to another address or range.
 */
export class LeaseKeeper {
  /** The lease the phone runs on now. */
  current: PhoneLease | undefined;
  private unwatchLease?: () => void;
  /** Moving onto a new lease waits until no call runs (their sockets are on the old one). */
  moving: Promise<void> | undefined;
  /** Accounts unregistered as the lease went: registered again when the same lease comes back (no move then). */
  private relinquished: string[] = [];

  constructor(private readonly options: LeaseKeeperOptions) {
    this.current = options.lease;
    if (options.lease) this.unwatchLease = this.watchLease(options.lease);
  }

  /** The current lease's state, when the phone runs on one. */
  get status(): LeaseStatus | undefined {
    return this.current ? leaseStatus(this.current) : undefined;
  }

  /** Whether the phone runs on a lease that is gone (RFC 2131 §4.4.5: the client must stop using it). */
  get lost(): boolean {
    return this.current !== undefined && leaseStatus(this.current).state === 'lost';
  }

  /** Stop watching (shutdown); the lease itself is given back by release(). */
  stop(): void {
    this.unwatchLease?.();
  }

  /** RFC 2131 §4.4.6 RELEASE, last on shutdown. */
  async release(): Promise<void> {
    await this.current?.release?.().catch(this.options.failed('giving the DHCP lease back (RFC 2131 §4.4.6 RELEASE)'));
  }

  /**
   * Seed 003 / RFC 2131 §4.4.5: every lease state change reaches the hosts, and so does every port taken or given
   * back (once per turn of the event loop, however many moved); losing the lease is also an error.
   */
  private watchLease(lease: PhoneLease): () => void {
    let pending = false;
    const unwatchPool = lease.pool.onChange(() => {
      if (pending) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        if (!this.options.stopped()) this.options.emit({ type: 'lease', lease: leaseStatus(lease) });
      });
    });
    if (!lease.watch) return unwatchPool;
    const relinquish = this.options.relinquish;
    const unwatchLoss =
      relinquish && lease.watch.beforeLoss
        ? lease.watch.beforeLoss(async () => {
            if (this.options.stopped()) return;
            const ids = await relinquish();
            if (this.options.stopped() || this.current !== lease) return; // moved onto another lease: it registers them
            // the lease client waits for this only so long (relinquishMs): the same lease may be back already
            if (leaseStatus(lease).state === 'bound') for (const id of ids) this.options.registerAgain(id);
            else this.relinquished = ids;
          })
        : undefined;
    let last = leaseStatus(lease).state;
    const unwatchClient = lease.watch.on((event) => {
      if (event.type !== 'state' && event.type !== 'bound') return;
      const status = leaseStatus(lease);
      this.options.emit({ type: 'lease', lease: status });
      if (status.state === 'lost' && last !== 'lost') {
        this.options.emit({ type: 'error', code: 'LEASE_LOST', message: `the DHCP lease of ${lease.privateAddress} is gone (${event.type === 'state' ? event.reason : 'new lease with other ports'}); calls are refused until the phone has a lease again` });
      }
      // the same lease again (DISCOVER found the same address and ports): nothing moves, the accounts register again
      if (status.state === 'bound' && last === 'lost' && this.relinquished.length > 0 && !this.options.stopped()) {
        for (const id of this.relinquished.splice(0)) this.options.registerAgain(id);
      }
      last = status.state;
      this.moveToNewLeaseWhenIdle();
    });
    return () => {
      unwatchPool();
      unwatchClient();
      unwatchLoss?.();
    };
  }

  /**
   * The lease client bound again after the lease was lost, to another address or port range (RFC 2131 §3.1: the old
   * lease expired or was refused, and DISCOVER found a new one). Once no call runs, every account moves onto it: its
   * identities are closed, then opened again on ports of the new range and registered from there.
   */
  moveToNewLeaseWhenIdle(): void {
    const current = this.current;
    const next = current?.watch?.lease;
    if (!current || !next || this.options.stopped() || this.moving || this.options.busy()) return;
    if (current.watch!.state !== 'BOUND' && current.watch!.state !== 'STATIC') return;
    if (leaseStatus(current).state !== 'lost') return; // still the lease the sockets use
    this.moving = this.options.serialized(async () => {
      if (this.options.stopped()) return;
      this.unwatchLease?.();
      const { natAddress: _previousNat, ...rest } = current;
      const moved: PhoneLease = { ...rest, pool: PortPool.fromLease(next), privateAddress: next.address, ...(next.natAddress !== undefined ? { natAddress: next.natAddress } : {}) };
      this.current = moved;
      this.unwatchLease = this.watchLease(moved);
      const wanted = await this.options.reopenAccounts();
      this.relinquished = [];
      this.options.emit({ type: 'lease', lease: leaseStatus(moved) });
      for (const id of wanted) this.options.registerAgain(id);
    }).finally(() => {
      this.moving = undefined;
    });
  }
}
