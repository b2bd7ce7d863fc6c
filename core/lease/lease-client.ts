import { randomInt } from 'node:crypto';
import { BROADCAST_FLAG, decodeDhcpMessage, dhcpMessage, encodeDhcpMessage, type DhcpMessage } from './dhcp-message.js';
import type { DhcpMessageType, DhcpOptions, MgcAddress, PortRange } from './dhcp-options.js';
import type { LeaseAddressApplier } from './lease-address-applier.js';
import { countReject, LeaseError, type LeaseErrorCode, type RejectCounters } from './lease-error.js';
import type { LeaseStore, StoredLease } from './lease-store.js';
import type { LeaseEndpoint, LeaseTransport } from './lease-transport.js';
import { leaseFromAck, missingLeaseOptions, type Lease, type LeaseKind, type RequiredLeaseField } from './lease.js';

/** RFC 2131 §4.4 Figure 5 states, plus STATIC (Fig. 5A 504), FAILED (retries used up) and STOPPED. */
export type LeaseState =
  | 'INIT'
  | 'SELECTING'
  | 'REQUESTING'
  | 'INIT_REBOOT'
  | 'REBOOTING'
  | 'BOUND'
  | 'RENEWING'
  | 'REBINDING'
  | 'STATIC'
  | 'FAILED'
  | 'STOPPED';

export type LeaseEvent =
  | { type: 'state'; from: LeaseState; to: LeaseState; reason: string }
  | { type: 'sent'; message: DhcpMessageType; xid: number; broadcast: boolean }
  /** A send the transport refused (e.g. the link is not up yet); the round goes on without it. */
  | { type: 'send-failed'; message: DhcpMessageType; reason: string }
  | { type: 'received'; message: DhcpMessageType; xid: number; from: LeaseEndpoint }
  /** A DISCOVER round: how long it waits for a usable offer before rediscovering (Fig. 5A 538). */
  | { type: 'discover'; round: number; waitMs: number }
  /** Fig. 5A 518/520: an offer without every required option is ignored. */
  | { type: 'offer-ignored'; from: LeaseEndpoint; serverId?: string; missing: string[] }
  /** A datagram that is not a valid DHCP reply, with why (counted in `counters.rejected`). */
  | { type: 'rejected'; code: LeaseErrorCode; reason: string; from: LeaseEndpoint }
  | { type: 'nak'; from: LeaseEndpoint; message?: string }
  /** Waiting before the next DISCOVER after repeated NAKs. */
  | { type: 'backoff'; delayMs: number; reason: 'nak' }
  | { type: 'bound'; lease: Lease; renewed: boolean }
  | { type: 'expired'; lease: Lease }
  | { type: 'released'; lease: Lease }
  | { type: 'failed'; code: LeaseErrorCode; message: string }
  /** A lease's address could not be taken off the interface (counted in `counters.addressNotRemoved`; the first is told). */
  | { type: 'address-not-removed'; address: string; message: string };

/** Retransmission and backoff timings; RFC 2131 values by default, small ones in tests. */
export interface LeaseTiming {
  /** RFC 2131 §4.1: the first wait for a reply, doubled on every retry up to `maxWaitMs`, ± `jitterMs`. */
  initialWaitMs: number;
  maxWaitMs: number;
  jitterMs: number;
  /** DISCOVER rounds before start() gives up with NO_USABLE_OFFER and the state is FAILED; 0 = never give up. */
  maxDiscoverRounds: number;
  /** REQUESTs sent while requesting or rebooting before going back to INIT. */
  requestAttempts: number;
  /** RFC 2131 §4.4.5: the shortest wait between renewal (and rebinding) requests. */
  minRenewWaitMs: number;
  /** Milliseconds per lease-time second: 1000, except in tests that compress lease times. */
  secondMs: number;
  /**
   * How long before the lease expires rebinding stops, so what runs on the address can be ended while the address is
   * still ours (`beforeLoss`); at most half of T2 → expiry. Also the longest `beforeLoss` is waited for.
   */
  relinquishMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = {
  initialWaitMs: 4000,
  maxWaitMs: 64_000,
  jitterMs: 1000,
  maxDiscoverRounds: 8,
  requestAttempts: 4,
  minRenewWaitMs: 60_000,
  secondMs: 1000,
  relinquishMs: 3000,
};

/** A statically configured phone (Fig. 5A 504 → 542): no DHCP at all. */
export interface StaticLeaseConfig {
  address: string;
  subnetMask?: string;
  portRange: PortRange;
  mgc: MgcAddress[];
  natAddress?: string;
  tftpServer?: string;
  bootFile?: string;
}

export interface LeaseClientOptions {
  transport: LeaseTransport;
  /** chaddr: the link's MAC address (`os.networkInterfaces()`), or any stable 6 bytes in the lab. */
  hardwareAddress: Buffer;
  /** Option 60 (Fig. 4B: the identifier the service gateway assigns a port range by); none sends no option 60. */
  vendorClass?: string;
  /** `phone` (default): the lease the phone runs on; `address`: a one-time address, no seed 003 options needed. */
  kind?: LeaseKind;
  /** Option 61; default type 1 + hardware address (RFC 2132 §9.14). A string is sent as type 0 + its bytes. */
  clientId?: Buffer | string;
  hostName?: string;
  /** Options an offer must have besides address, 54, 51, 224 and 225. */
  requiredOptions?: RequiredLeaseField[];
  /** Where the lease is kept between runs (Fig. 5B 570); none keeps nothing. */
  store?: LeaseStore;
  /** Puts the address on the interface (real links); none in the lab. */
  applier?: LeaseAddressApplier;
  timing?: Partial<LeaseTiming>;
  /** Skip DHCP entirely (Fig. 5A 504). */
  static?: StaticLeaseConfig;
  /** Uniform [0, 1) for jitter; injectable for tests. */
  random?: () => number;
  now?: () => number;
}

export interface LeaseClientCounters {
  sent: Partial<Record<DhcpMessageType, number>>;
  received: Partial<Record<DhcpMessageType, number>>;
  /** Datagrams refused as invalid, by code. */
  rejected: RejectCounters;
  /** Valid offers ignored for missing options (Fig. 5A 520). */
  ignoredOffers: number;
  /** Valid replies for another client or transaction. */
  foreign: number;
  naks: number;
  discoverRounds: number;
  /** A lease's address that could not be taken off the interface (it may still be there). */
  addressNotRemoved: number;
}

/** The parameter request list: what we ask servers for (RFC 2132 §9.8); dnsmasq only sends options asked for. */
export const PARAMETER_REQUEST_LIST = [1, 3, 6, 12, 15, 43, 51, 54, 58, 59, 66, 67, 224, 225, 226, 227];

const MAX_TIMER_MS = 2 ** 31 - 1;

class Stopped extends Error {}

/**
 * The phone's DHCP client (RFC 2131 §4.4, seed 003 Figs. 5A/5B): INIT → SELECTING → REQUESTING → BOUND →
 * RENEWING → REBINDING, INIT-REBOOT with a stored lease, RELEASE on stop. Offers missing a required option are
 * ignored; with no usable offer it rediscovers after a bounded, jittered wait; a NAK restarts; every state change
 * is an event.
 */
export class LeaseClient {
  private readonly timing: LeaseTiming;
  private readonly clientId: Buffer;
  private readonly listeners = new Set<(event: LeaseEvent) => void>();
  private readonly random: () => number;
  private readonly now: () => number;
  private currentState: LeaseState = 'INIT';
  private currentLease: Lease | undefined;
  private waiter: ((message: DhcpMessage, from: LeaseEndpoint) => void) | undefined;
  private timers = new Set<NodeJS.Timeout>();
  private stopping = false;
  private stopWaiters = new Set<() => void>();
  private lifecycle: Promise<void> | undefined;
  private starting: Promise<Lease> | undefined;
  private exchangeStart = 0;
  private lossAction: ((lease: Lease, reason: string) => Promise<void>) | undefined;
  readonly counters: LeaseClientCounters = { sent: {}, received: {}, rejected: {}, ignoredOffers: 0, foreign: 0, naks: 0, discoverRounds: 0, addressNotRemoved: 0 };

  constructor(private readonly options: LeaseClientOptions) {
    this.timing = { ...DEFAULT_LEASE_TIMING, ...options.timing };
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    const id = options.clientId;
    this.clientId = id === undefined ? Buffer.concat([Buffer.from([1]), options.hardwareAddress]) : typeof id === 'string' ? Buffer.concat([Buffer.from([0]), Buffer.from(id, 'utf8')]) : Buffer.from(id);
    options.transport.onPacket((packet, from) => this.onPacket(packet, from));
  }

  /** What the checks of an offer need to know of the link (the lab's loopback server leases loopback addresses). */
  private get link(): { loopbackServer: boolean } {
    return { loopbackServer: this.options.transport.toLoopbackServer === true };
  }

  get state(): LeaseState {
    return this.currentState;
  }

  get lease(): Lease | undefined {
    return this.currentLease;
  }

  /** Client id as hex, the form stored and logged. */
  get clientIdHex(): string {
    return this.clientId.toString('hex');
  }

  /**
   * `action` runs when the lease is about to be lost (it expires, or the server NAKs it), before its address is taken
   * off the interface (RFC 2131 §4.4.5: the client must then stop using it): the phone ends its calls and removes the
   * bindings made from it while it can still send from it. Waited for up to `relinquishMs`. One action at a time.
   */
  beforeLoss(action: (lease: Lease, reason: string) => Promise<void>): () => void {
    this.lossAction = action;
    return () => {
      if (this.lossAction === action) this.lossAction = undefined;
    };
  }

  on(listener: (event: LeaseEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Obtain a lease: static, reused from the store (INIT-REBOOT), or by DISCOVER. Resolves when BOUND (or STATIC);
   * rejects with NO_USABLE_OFFER (state FAILED) when `maxDiscoverRounds` rounds brought no usable offer.
   * Renewal and rebinding then run by themselves until stop().
   */
  start(): Promise<Lease> {
    if (this.stopping) return Promise.reject(new LeaseError('STOPPED', 'the lease client was stopped; create a new one'));
    // one negotiation at a time: a second call while it runs (or after it bound) gets the same answer
    if (this.starting && this.currentState !== 'FAILED') return this.starting;
    this.starting = this.negotiate();
    return this.starting;
  }

  private async negotiate(): Promise<Lease> {
    if (this.options.static) return this.bindStatic(this.options.static);
    const stored = this.loadStored();
    try {
      let hint = stored?.lease.address;
      if (stored && !stored.released && stored.lease.expiresAt > this.now() && stored.lease.source !== 'static') {
        const rebooted = await this.reboot(stored.lease);
        if (rebooted !== 'nak' && rebooted !== undefined) return rebooted;
        // RFC 2131 §3.2 step 4: a NAK means the address is not ours any more; do not ask for it again
        if (rebooted === 'nak') hint = undefined;
      }
      return await this.acquire(hint);
    } catch (error) {
      throw this.failure(error);
    }
  }

  /**
   * Stop: RELEASE the lease (RFC 2131 §4.4.6) unless `release` is false, take the address off, close the
   * transport. A released lease stays in the store only as a hint for the address to ask for next time.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.stopWaiters) wake();
    const lease = this.currentLease;
    const held = lease !== undefined && ['BOUND', 'RENEWING', 'REBINDING'].includes(this.currentState);
    if (held && lease.source !== 'static' && options.release !== false && lease.serverId !== undefined) {
      const release = this.message('RELEASE', { ciaddr: lease.address, flags: 0 }, { serverId: lease.serverId }, false);
      try {
        await this.send(release, lease.serverId);
        this.emit({ type: 'released', lease });
      } catch {
        // the transport is gone: the server lets the lease expire
      }
      this.saveStored(lease, true);
      await this.options.applier?.remove(lease).catch(this.removalFailed(lease));
    }
    this.setState('STOPPED', options.release === false ? 'stopped, lease kept' : 'stopped');
    await this.lifecycle?.catch(() => undefined); // the renewal loop reports its own failure (failure())
    await this.options.transport.close();
  }

  snapshot(): { state: LeaseState; lease?: Lease; counters: LeaseClientCounters } {
    return { state: this.currentState, ...(this.currentLease ? { lease: { ...this.currentLease } } : {}), counters: structuredClone(this.counters) };
  }

  // --- acquisition -------------------------------------------------------------------------------------------

  /** SELECTING/REQUESTING rounds until BOUND or the round budget is used up (Fig. 5A 506-538). */
  private async acquire(hint?: string): Promise<Lease> {
    this.setState('INIT', hint ? `asking for ${hint} again` : 'no lease');
    const xid = randomInt(0, 2 ** 32);
    this.exchangeStart = this.now();
    let offersIgnored = 0;
    let offersSeen = 0;
    let naks = 0;
    let sendError: string | undefined;
    for (let round = 0; this.timing.maxDiscoverRounds === 0 || round < this.timing.maxDiscoverRounds; round++) {
      this.counters.discoverRounds++;
      const waitMs = this.backoff(round);
      this.setState('SELECTING', round === 0 ? 'DISCOVER' : `no usable offer, DISCOVER round ${round + 1}`);
      this.emit({ type: 'discover', round: round + 1, waitMs });
      const discover = this.message('DISCOVER', { xid }, hint ? { requestedAddress: hint } : {});
      try {
        await this.send(discover);
      } catch (error) {
        // a link that is not up yet (ENETUNREACH …) is a round without offers, not the end
        if (!(error instanceof LeaseError) || error.code !== 'TRANSPORT_FAILED') throw error;
        sendError = error.message;
        this.emit({ type: 'send-failed', message: 'DISCOVER', reason: error.message });
      }
      const offer = await this.waitReply(waitMs, (message, from) => {
        if (message.xid !== xid || message.options.messageType !== 'OFFER') return undefined;
        offersSeen++;
        const missing = missingLeaseOptions(message, this.options.requiredOptions, this.options.kind, this.link);
        if (missing.length === 0) return message;
        // seed 003 Fig. 5A 518 → 520: ignore it and keep waiting for another server's offer
        offersIgnored++;
        this.counters.ignoredOffers++;
        this.emit({ type: 'offer-ignored', from, ...(message.options.serverId ? { serverId: message.options.serverId } : {}), missing });
        return undefined;
      });
      if (offer === undefined) continue;
      const result = await this.request(offer, xid);
      if (result.kind === 'ack') return this.bind(result.lease, false);
      if (result.kind === 'nak') {
        naks++;
        this.setState('INIT', 'NAK');
        hint = undefined;
        // RFC 2131 §3.1 step 5: restart at once; back off only when NAKs repeat, so a broken server is not flooded
        if (naks > 1) {
          const delayMs = this.backoff(naks - 2);
          this.emit({ type: 'backoff', delayMs, reason: 'nak' });
          await this.sleep(delayMs);
        }
      } else {
        this.setState('INIT', 'no answer to REQUEST');
      }
    }
    const why = offersSeen === 0 ? `no offer at all${sendError ? `; last send error: ${sendError}` : ''}` : `${offersIgnored} of ${offersSeen} offers lacked required options`;
    throw new LeaseError('NO_USABLE_OFFER', `no usable DHCP offer after ${this.timing.maxDiscoverRounds} rounds (${why}${naks ? `, ${naks} NAKs` : ''})`);
  }

  /** REQUESTING (RFC 2131 §4.4.1): REQUEST with the chosen server's id, retransmitted until ACK, NAK or the budget. */
  private async request(offer: DhcpMessage, xid: number): Promise<{ kind: 'ack'; lease: Lease } | { kind: 'nak' } | { kind: 'timeout' }> {
    this.setState('REQUESTING', `offer of ${offer.yiaddr} from ${offer.options.serverId}`);
    const serverId = offer.options.serverId!;
    const request = this.message('REQUEST', { xid }, { requestedAddress: offer.yiaddr, serverId });
    return this.exchange(request, undefined, (message) => {
      if (message.xid !== xid || message.options.serverId !== serverId) return undefined;
      if (message.options.messageType === 'ACK') return { kind: 'ack' as const, lease: leaseFromAck(message, offer, this.clock(), undefined, this.options.kind, this.link) };
      if (message.options.messageType === 'NAK') return { kind: 'nak' as const };
      return undefined;
    });
  }

  /** INIT-REBOOT → REBOOTING (RFC 2131 §3.2, §4.4.2): ask to keep a stored, unexpired lease. */
  private async reboot(stored: Lease): Promise<Lease | 'nak' | undefined> {
    this.setState('INIT_REBOOT', `stored lease of ${stored.address}`);
    this.setState('REBOOTING', 'REQUEST for the stored address');
    const xid = randomInt(0, 2 ** 32);
    this.exchangeStart = this.now();
    const request = this.message('REQUEST', { xid }, { requestedAddress: stored.address });
    const result = await this.exchange(request, undefined, (message) => {
      if (message.xid !== xid) return undefined;
      if (message.options.messageType === 'ACK') return { kind: 'ack' as const, lease: leaseFromAck(message, undefined, this.clock(), stored, this.options.kind, this.link) };
      if (message.options.messageType === 'NAK') return { kind: 'nak' as const };
      return undefined;
    });
    if (result.kind === 'ack') return this.bind(result.lease, false);
    if (result.kind === 'nak') {
      this.setState('INIT', 'NAK for the stored address');
      return 'nak';
    }
    // RFC 2131 §3.2 step 5: no answer at all — the client may use the unexpired stored lease.
    if (stored.expiresAt > this.now()) return this.bind({ ...stored, source: 'stored' }, false);
    return undefined;
  }

  /** Send `request`, retransmitting on the RFC 2131 §4.1 schedule until `accept` returns something. */
  private async exchange<T>(request: DhcpMessage, unicastTo: string | undefined, accept: (message: DhcpMessage, from: LeaseEndpoint) => T | undefined): Promise<T | { kind: 'timeout' }> {
    for (let attempt = 0; attempt < this.timing.requestAttempts; attempt++) {
      request.secs = this.secs();
      await this.send(request, unicastTo);
      const result = await this.waitReply(this.backoff(attempt), accept);
      if (result !== undefined) return result;
    }
    return { kind: 'timeout' };
  }

  private async bind(lease: Lease, renewed: boolean): Promise<Lease> {
    const previous = this.currentLease;
    if (!renewed || previous?.address !== lease.address) {
      if (previous && previous.address !== lease.address) await this.options.applier?.remove(previous).catch(this.removalFailed(previous));
      try {
        await this.options.applier?.apply(lease);
      } catch (error) {
        throw error instanceof LeaseError ? error : new LeaseError('ADDRESS_APPLY_FAILED', (error as Error).message);
      }
    }
    this.currentLease = lease;
    this.saveStored(lease, false);
    this.setState('BOUND', renewed ? 'lease extended' : `${lease.address}, ports ${lease.portRange.min}-${lease.portRange.max}`);
    this.emit({ type: 'bound', lease, renewed });
    this.scheduleRenewal(lease);
    return lease;
  }

  private bindStatic(config: StaticLeaseConfig): Lease {
    const lease: Lease = {
      source: 'static',
      address: config.address,
      ...(config.subnetMask !== undefined ? { subnetMask: config.subnetMask } : {}),
      portRange: { ...config.portRange },
      mgc: config.mgc.map((m) => ({ ...m })),
      ...(config.natAddress !== undefined ? { natAddress: config.natAddress } : {}),
      ...(config.tftpServer !== undefined ? { tftpServer: config.tftpServer } : {}),
      ...(config.bootFile !== undefined ? { bootFile: config.bootFile } : {}),
      obtainedAt: this.now(),
      renewAt: Number.POSITIVE_INFINITY,
      rebindAt: Number.POSITIVE_INFINITY,
      expiresAt: Number.POSITIVE_INFINITY,
      leaseSeconds: 0xffffffff,
    };
    this.currentLease = lease;
    this.setState('STATIC', 'statically configured (Fig. 5A 504)');
    this.emit({ type: 'bound', lease, renewed: false });
    return lease;
  }

  // --- renewal -----------------------------------------------------------------------------------------------

  private scheduleRenewal(lease: Lease): void {
    if (!Number.isFinite(lease.renewAt)) return;
    this.at(lease.renewAt, () => {
      this.lifecycle = this.maintain(lease).catch((error) => {
        if (!(error instanceof Stopped)) this.failure(error);
      });
    });
  }

  /** RENEWING at T1 (unicast to our server), REBINDING at T2 (broadcast), expiry → INIT and a new acquisition. */
  private async maintain(lease: Lease): Promise<void> {
    this.setState('RENEWING', 'T1');
    this.exchangeStart = this.now();
    const renewed = await this.extend(lease, lease.rebindAt, lease.serverId);
    if (renewed === 'nak') return this.lose(lease, 'NAK while renewing');
    if (renewed) return;
    this.setState('REBINDING', 'T2: no answer from the leasing server');
    // rebinding stops a little before expiry, leaving time to end what runs on the address while it is still ours
    const margin = Math.min(this.timing.relinquishMs, Math.max(0, (lease.expiresAt - lease.rebindAt) / 2));
    const rebound = await this.extend(lease, lease.expiresAt - margin, undefined);
    if (rebound === 'nak') return this.lose(lease, 'NAK while rebinding');
    if (rebound) return;
    this.emit({ type: 'expired', lease });
    await this.lose(lease, 'lease expired');
  }

  /** RFC 2131 §4.4.5: REQUEST with ciaddr, next try after half the time left (at least minRenewWaitMs), until `until`. */
  private async extend(lease: Lease, until: number, server: string | undefined): Promise<boolean | 'nak'> {
    const xid = randomInt(0, 2 ** 32);
    while (this.now() < until) {
      const request = this.message('REQUEST', { xid, ciaddr: lease.address, flags: 0 }, {});
      await this.send(request, server);
      const left = until - this.now();
      const waitMs = Math.max(1, Math.min(left, Math.max(this.timing.minRenewWaitMs, left / 2)));
      // the lease is made inside the wait: an ACK that fails the checks (a loopback yiaddr, 0 s) is counted and the
      // wait goes on, as while requesting; thrown from here it would have ended the lease's upkeep (state FAILED)
      const answer = await this.waitReply(waitMs, (message) => {
        if (message.xid !== xid) return undefined;
        if (message.options.messageType === 'ACK') return { renewed: leaseFromAck(message, undefined, this.clock(), lease, this.options.kind, this.link) };
        if (message.options.messageType === 'NAK') return 'nak' as const;
        return undefined;
      });
      if (answer === 'nak') return 'nak';
      if (answer !== undefined) {
        await this.bind(answer.renewed, true);
        return true;
      }
    }
    return false;
  }

  private async lose(lease: Lease, reason: string): Promise<void> {
    await this.relinquish(lease, reason);
    if (this.stopping) throw new Stopped(); // stop() came meanwhile: it released the lease and took the address off
    this.currentLease = undefined;
    await this.options.applier?.remove(lease).catch(this.removalFailed(lease));
    this.options.store?.clear();
    this.setState('INIT', reason);
    await this.acquire();
  }

  /** The `beforeLoss` action, waited for at most `relinquishMs` (its failure is its own to report). */
  private async relinquish(lease: Lease, reason: string): Promise<void> {
    const action = this.lossAction;
    if (!action) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([action(lease, reason).catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timing.relinquishMs)))]);
    clearTimeout(timer);
  }

  // --- plumbing ----------------------------------------------------------------------------------------------

  private message(type: DhcpMessageType, header: Partial<DhcpMessage>, options: DhcpOptions, withParameters = true): DhcpMessage {
    const common: DhcpOptions = { messageType: type, clientId: this.clientId };
    // RFC 2131 Table 5: DECLINE and RELEASE carry no vendor class, parameter list or size.
    if (withParameters) {
      if (this.options.vendorClass !== undefined) common.vendorClass = this.options.vendorClass;
      common.parameterRequestList = PARAMETER_REQUEST_LIST;
      common.maxMessageSize = 1500;
      if (this.options.hostName) common.hostName = this.options.hostName;
    }
    return dhcpMessage({
      op: 1,
      xid: header.xid ?? randomInt(0, 2 ** 32),
      chaddr: this.options.hardwareAddress,
      // RFC 2131 §4.1: a client that cannot receive unicast before it has an address asks for broadcast replies
      flags: BROADCAST_FLAG,
      secs: this.secs(),
      ...header,
      options: { ...common, ...options },
    });
  }

  private async send(message: DhcpMessage, unicastTo?: string): Promise<void> {
    if (this.stopping && message.options.messageType !== 'RELEASE') throw new Stopped();
    const bytes = encodeDhcpMessage(message);
    const type = message.options.messageType!;
    if (unicastTo !== undefined) await this.options.transport.unicast(bytes, unicastTo);
    else await this.options.transport.broadcast(bytes);
    this.counters.sent[type] = (this.counters.sent[type] ?? 0) + 1;
    this.emit({ type: 'sent', message: type, xid: message.xid, broadcast: unicastTo === undefined });
  }

  private onPacket(packet: Buffer, from: LeaseEndpoint): void {
    let message: DhcpMessage;
    try {
      message = decodeDhcpMessage(packet);
      if (message.op !== 2) throw new LeaseError('DHCP_BAD_HEADER', 'a BOOTREQUEST on the client port');
    } catch (error) {
      const e = error instanceof LeaseError ? error : new LeaseError('DHCP_BAD_HEADER', (error as Error).message);
      countReject(this.counters.rejected, e.code);
      this.emit({ type: 'rejected', code: e.code, reason: e.message, from });
      return;
    }
    if (!message.chaddr.equals(this.options.hardwareAddress) && !(message.options.clientId?.equals(this.clientId) ?? false)) {
      this.counters.foreign++;
      return;
    }
    const type = message.options.messageType!;
    this.counters.received[type] = (this.counters.received[type] ?? 0) + 1;
    if (type === 'NAK') this.counters.naks++;
    this.emit({ type: 'received', message: type, xid: message.xid, from });
    if (type === 'NAK') this.emit({ type: 'nak', from, ...(message.options.message ? { message: message.options.message } : {}) });
    this.waiter?.(message, from);
  }

  /** Wait up to `ms` for a reply `accept` takes; undefined on timeout; throws Stopped on stop(). */
  private waitReply<T>(ms: number, accept: (message: DhcpMessage, from: LeaseEndpoint) => T | undefined): Promise<T | undefined> {
    if (this.stopping) return Promise.reject(new Stopped());
    return new Promise<T | undefined>((resolve, reject) => {
      const done = (value: T | undefined, error?: Error): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.stopWaiters.delete(onStop);
        if (this.waiter === onMessage) this.waiter = undefined;
        if (error) reject(error);
        else resolve(value);
      };
      const onMessage = (message: DhcpMessage, from: LeaseEndpoint): void => {
        let value: T | undefined;
        try {
          value = accept(message, from);
        } catch (error) {
          // e.g. an ACK without the leased options: counted, and the wait goes on
          const e = error instanceof LeaseError ? error : new LeaseError('DHCP_BAD_OPTION_VALUE', (error as Error).message);
          countReject(this.counters.rejected, e.code);
          this.emit({ type: 'rejected', code: e.code, reason: e.message, from });
          return;
        }
        if (value !== undefined) done(value);
      };
      const onStop = (): void => done(undefined, new Stopped());
      const timer = setTimeout(() => done(undefined), Math.min(ms, MAX_TIMER_MS));
      this.timers.add(timer);
      this.stopWaiters.add(onStop);
      this.waiter = onMessage;
    });
  }

  private sleep(ms: number): Promise<void> {
    return this.waitReply(ms, () => undefined).then(() => undefined);
  }

  /** Run `fn` at epoch ms `when`, in steps below Node's 24.8-day timer limit. */
  private at(when: number, fn: () => void): void {
    const delay = when - this.now();
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (this.stopping) return;
        if (delay > MAX_TIMER_MS) this.at(when, fn);
        else fn();
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
    this.timers.add(timer);
  }

  /** RFC 2131 §4.1: 4 s, 8 s, … up to 64 s, each ± 1 s uniformly (here: the configured values). */
  private backoff(attempt: number): number {
    const base = Math.min(this.timing.maxWaitMs, this.timing.initialWaitMs * 2 ** Math.min(attempt, 30));
    const jitter = (this.random() * 2 - 1) * this.timing.jitterMs;
    return Math.max(1, Math.round(base + jitter));
  }

  private secs(): number {
    return Math.min(0xffff, Math.floor((this.now() - this.exchangeStart) / 1000));
  }

  private clock(): { now: number; secondMs: number } {
    return { now: this.now(), secondMs: this.timing.secondMs };
  }

  private loadStored(): StoredLease | undefined {
    const stored = this.options.store?.load();
    if (!stored) return undefined;
    if (stored.clientId !== this.clientIdHex || stored.vendorClass !== (this.options.vendorClass ?? '')) return undefined;
    return stored;
  }

  private saveStored(lease: Lease, released: boolean): void {
    if (lease.source === 'static') return;
    this.options.store?.save({ lease, clientId: this.clientIdHex, vendorClass: this.options.vendorClass ?? '', released });
  }

  private failure(error: unknown): Error {
    if (error instanceof Stopped || this.stopping) return new LeaseError('STOPPED', 'the lease client was stopped');
    const e = error instanceof LeaseError ? error : new LeaseError('TRANSPORT_FAILED', (error as Error).message);
    this.setState('FAILED', e.message);
    this.emit({ type: 'failed', code: e.code, message: e.message });
    return e;
  }

  private setState(to: LeaseState, reason: string): void {
    const from = this.currentState;
    if (from === to && to !== 'SELECTING') return;
    this.currentState = to;
    this.emit({ type: 'state', from, to, reason });
  }

  /** An address the applier could not take off: counted, and the first one told (the lease goes on without it). */
  private removalFailed(lease: Lease): (error: unknown) => void {
    return (error) => {
      this.counters.addressNotRemoved++;
      if (this.counters.addressNotRemoved === 1) this.emit({ type: 'address-not-removed', address: lease.address, message: (error as Error).message });
    };
  }

  private emit(event: LeaseEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener's bug must not stop the lease
      }
    }
  }
}
