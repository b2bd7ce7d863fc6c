import type { SessionDescriptionHandlerFactory } from 'sip.js';
import type { CallLogDetail, CallLogExportFormat, CallLogFile, CallLogFilter, CallLogPage } from '../api/call-log-types.js';
import type { DtmfMethod, PhoneApi } from '../api/phone-api.js';
import { PhoneError } from '../api/phone-error.js';
import {
  maskedPassword,
  type AccountConfig,
  type AddressStatus,
  type LeaseStatus,
  type CallRequest,
  type CallSnapshot,
  type NetworkStatus,
  type PhoneEvent,
  type PhoneSettings,
  type PhoneSnapshot,
  type RegistrationSnapshot,
} from '../api/phone-types.js';
import { OwnershipJournal } from '../address/address-journal.js';
import type { CommandRunner } from '../address/command-runner.js';
import type { TemporaryAddressManager } from '../address/temporary-address-manager.js';
import { callLogFile } from '../calllog/call-log-file.js';
import { CallLogError, CallLogStore } from '../calllog/call-log-store.js';
import type { MediaSession } from '../media/media-session.js';
import { bareHost, parseSipUri, SipParseError, uriDomain, uriTransport } from '../sip/message/index.js';
import { hostOfUri } from './host-of-uri.js';
import { sourceAddressFor } from '../sip/local-address.js';
import { presentByDefault } from '../privacy/anonymity.js';
import { planCallPrivacy } from '../privacy/call-privacy.js';
import { matchDialRules } from '../privacy/dial-plan.js';
import { detectIncomingAnonymity } from '../privacy/incoming-anonymity.js';
import { SipCallError, uriUser, type SipCall } from '../sip/sip-call.js';
import { SipIdentity, SipIdentityError } from '../sip/sip-identity.js';
import { formatEndpoint, type Endpoint } from '../sip/transport/endpoint.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { defaultSipTimers, type SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import { AccountIdentities, type IdentityPlacement } from './account-identities.js';
import { AccountStore } from './account-store.js';
import type { SecretSealer } from './secret-sealer.js';
import { CallAudioPort } from './call-audio-port.js';
import { createAddressManager } from './address-setup.js';
import { callResult } from './call-result.js';
import { cleanUpLeftovers } from './leftover-cleanup.js';
import { ServerFailover } from './server-failover.js';
import { PortPool } from '../lease/port-pool.js';
import { natAddresses, natContactParams } from '../lease/nat-contact.js';
import { leaseHealth, type LeaseWatch } from './lease-health.js';
import { dialTargetToUri } from './dial-target.js';
import { partyFrom, PhoneCall } from './phone-call.js';
import { TraceRouter } from './trace-router.js';
import { VerificationKeys, type VerificationKeyFile } from '../signing/key-ring.js';
import { callTraceSignatures } from './trace-signatures.js';

/** What the media layer needs to know to build a session description handler for one identity. */
export interface MediaContext {
  /** Address written into SDP o= and c=. */
  advertisedAddress: string;
  /** Address the RTP sockets bind. */
  bindAddress: string;
  portRange: { min: number; max: number };
  accountId: string;
  /** The leased port pool, when one manages the range (seed 003): RTP/RTCP pairs come from it. */
  rtpPairs?: { takeRtpPair(owner?: string): { rtp: number; release(): void } };
}

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
function leaseText(lease: PhoneLease): string {
  return `${lease.privateAddress} ports ${lease.pool.range.min}-${lease.pool.range.max}${lease.natAddress !== undefined ? ` via NAT ${lease.natAddress}` : ''}`;
}

function leaseStatus(lease: PhoneLease): LeaseStatus {
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
function takeLeased<T>(take: () => T): T {
  try {
    return take();
  } catch (error) {
    throw new PhoneError('PORT_RANGE_EXHAUSTED', (error as Error).message);
  }
}

/** `sip:host:port;transport=…` as the endpoint an account's socket talks to. */
function serverEndpoint(config: AccountConfig, server: string): Endpoint {
  try {
    const uri = parseSipUri(server);
    const transport = uriTransport(uri) ?? config.transport;
    return { address: bareHost(uri.host), port: uri.port ?? (transport === 'ws' ? 80 : 5060) };
  } catch (error) {
    throw new PhoneError('INVALID_ARGUMENT', `account ${config.id}: bad server "${server}": ${(error as Error).message}`);
  }
}

/**
 * The domain of the account's address-of-record as URIs write it (RFC 3261 §25.1: an IPv6 address in brackets): the
 * configured one, else the server's host and port. A domain that is no valid host is refused.
 */
function accountDomain(config: AccountConfig): string {
  const text = config.domain ?? `${config.server.replace(/^sips?:/i, '').split(';')[0]}`;
  try {
    return uriDomain(text);
  } catch (error) {
    if (error instanceof SipParseError) throw new PhoneError('INVALID_ARGUMENT', `account ${config.id}: bad domain "${text}": ${error.message}`);
    throw error;
  }
}

/** Builds the sip.js session description handler factory (our RTP media) for one identity. */
export type MediaFactoryProvider = ((context: MediaContext) => SessionDescriptionHandlerFactory) & {
  /** Why an SDP offer cannot be answered, or undefined when it can: such a call is refused with 488 before it rings. */
  offerProblem?: (sdp: string) => string | undefined;
};

export interface PhoneOptions {
  accounts: AccountConfig[];
  /** The call log; the phone closes it on shutdown only if it opened it from `callLogPath`. */
  callLog?: CallLogStore;
  callLogPath?: string;
  mediaPortRange?: { min: number; max: number };
  createSessionDescriptionHandlerFactory: MediaFactoryProvider;
  timers?: SipTimerValues;
  /** Every SIP message of every account, as it crossed the socket (scenario reports, diagnostics). */
  onTrace?: (accountId: string, entry: SipTapEntry) => void;
  /**
   * Where the ownership journal of one-time addresses and their registrations lives (SPEC B: a crash leaves nothing
   * the next start cannot remove). Without it, temporary-address accounts work but nothing survives a crash.
   */
  dataDir?: string;
  /** Runs `ip` and `rdisc6` for the address module (tests inject a fake). */
  commandRunner?: CommandRunner;
  /** A DHCP lease: every SIP, RTP and RTCP port comes from its range, and a call that cannot fit is refused. */
  lease?: PhoneLease;
  /**
   * Route every call's audio to `phone.audio` (microphone frames in, far-end frames out, by call id) for a host whose UI
   * has an audio bridge. Without it calls play what a scenario tells them (silence by default).
   */
  audioPort?: boolean;
  /** What the status bar says about the network: the embedded lab or an external server. */
  network?: NetworkStatus;
  /**
   * The settings file (`settingsPath(dataDir)`): accounts saved from the settings view are loaded from it at start and
   * every change is written back. An account of `accounts` (the host's command line) wins over a stored one of its id.
   */
  /**
   * Calls at once, incoming and outgoing (default 128): beyond it an INVITE gets 486 Busy Here and is only counted
   * (a flood of INVITEs must not fill the call log, the notifications and the memory), and call() is refused.
   */
  maxCalls?: number;
  settingsFile?: string;
  /** Seals the passwords of the settings file with the OS keychain (Electron's safeStorage); absent, they stay in it. */
  secretSealer?: SecretSealer;
  /**
   * Keys that verify the network's signed routing headers (seed 002), read each time a call's trace is shown: the
   * lab's, or a key file. Without them signatures are decoded but get no verdict.
   */
  signatureKeys?: () => readonly VerificationKeyFile[] | undefined;
}

interface AccountRuntime {
  config: AccountConfig;
  server: Endpoint;
  /** Every server of the account (primary first): the only sources allowed to ring it, unless `directCalls`. */
  servers: Endpoint[];
  domain: string;
  identities: AccountIdentities;
  /** Temporary-address accounts: their one-time address manager, made on first use. */
  addresses?: Promise<TemporaryAddressManager>;
  /** The last reason no one-time address could be had. */
  addressProblem?: string;
  registration: RegistrationSnapshot;
  router: TraceRouter;
  /** Primary and backup servers with keep-alives, when the account has a backup or keep-alives. */
  failover?: ServerFailover;
  /** The user asked for registration (and has not unregistered since). */
  wantRegistered: boolean;
}

/** The RTP port range when none is configured (as openIdentity uses it), for the call log. */
const defaultMediaPorts = { min: 16384, max: 32767 };

/** The phone service every host runs: accounts, registrations, calls and the call log, behind PhoneApi. */
export class Phone implements PhoneApi {
  private readonly accounts = new Map<string, AccountRuntime>();
  private readonly calls = new Map<string, PhoneCall>();
  private readonly listeners = new Set<(event: PhoneEvent) => void>();
  private readonly callLog: CallLogStore;
  private readonly ownsCallLog: boolean;
  private journal?: OwnershipJournal;
  private recovery?: Promise<void>;
  private stopped = false;
  /** The audio bridge's port, when the host asked for one. */
  readonly audio?: CallAudioPort;
  private readonly store?: AccountStore;
  /** Accounts the settings file holds (loaded from it, or saved through updateAccount). */
  private readonly storedIds = new Set<string>();
  private settingsQueue: Promise<unknown> = Promise.resolve();
  /** Why stored accounts could not be loaded (reported once a host subscribes, and by `settingsProblems`). */
  readonly settingsProblems: string[] = [];
  /** The lease the phone runs on now: options.lease until the client binds to another address or range. */
  private lease: PhoneLease | undefined;
  private unwatchLease?: () => void;
  /** Moving onto a new lease waits until no call runs (their sockets are on the old one). */
  private leaseMove: Promise<void> | undefined;
  private readonly maxCalls: number;
  /** Incoming calls turned away because `maxCalls` were going on, and when that was last reported. */
  private refusedOverLimit = 0;
  private lastLimitReport = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: PhoneOptions) {
    this.ownsCallLog = options.callLog === undefined;
    this.callLog = options.callLog ?? CallLogStore.open(options.callLogPath ?? ':memory:');
    if (options.audioPort) this.audio = new CallAudioPort();
    this.maxCalls = options.maxCalls ?? 128;
    this.lease = options.lease;
    if (options.lease) this.unwatchLease = this.watchLease(options.lease);
    for (const config of options.accounts) this.addAccount(config);
    if (options.settingsFile !== undefined) {
      this.store = new AccountStore(options.settingsFile, options.secretSealer);
      const stored = this.store.load();
      this.settingsProblems.push(...stored.problems);
      for (const config of stored.accounts) {
        if (this.accounts.has(config.id)) continue;
        try {
          this.addAccount(config);
          this.storedIds.add(config.id);
        } catch (error) {
          this.settingsProblems.push(`stored account ${config.id}: ${(error as Error).message}`);
        }
      }
    }
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
        if (!this.stopped) this.emit({ type: 'lease', lease: leaseStatus(lease) });
      });
    });
    if (!lease.watch) return unwatchPool;
    let last = leaseStatus(lease).state;
    const unwatchClient = lease.watch.on((event) => {
      if (event.type !== 'state' && event.type !== 'bound') return;
      const status = leaseStatus(lease);
      this.emit({ type: 'lease', lease: status });
      if (status.state === 'lost' && last !== 'lost') {
        this.emit({ type: 'error', code: 'LEASE_LOST', message: `the DHCP lease of ${lease.privateAddress} is gone (${event.type === 'state' ? event.reason : 'new lease with other ports'}); calls are refused until the phone has a lease again` });
      }
      last = status.state;
      this.moveToNewLeaseWhenIdle();
    });
    return () => {
      unwatchPool();
      unwatchClient();
    };
  }

  /**
   * The lease client bound again after the lease was lost, to another address or port range (RFC 2131 §3.1: the old
   * lease expired or was refused, and DISCOVER found a new one). Once no call runs, every account moves onto it: its
   * identities are closed, then opened again on ports of the new range and registered from there.
   */
  private moveToNewLeaseWhenIdle(): void {
    const current = this.lease;
    const next = current?.watch?.lease;
    if (!current || !next || this.stopped || this.leaseMove || this.calls.size > 0) return;
    if (current.watch!.state !== 'BOUND' && current.watch!.state !== 'STATIC') return;
    if (leaseStatus(current).state !== 'lost') return; // still the lease the sockets use
    this.leaseMove = this.serialized(async () => {
      if (this.stopped) return;
      this.unwatchLease?.();
      const { natAddress: _previousNat, ...rest } = current;
      const moved: PhoneLease = { ...rest, pool: PortPool.fromLease(next), privateAddress: next.address, ...(next.natAddress !== undefined ? { natAddress: next.natAddress } : {}) };
      this.lease = moved;
      this.unwatchLease = this.watchLease(moved);
      const order = [...this.accounts.keys()];
      const wanted = new Set([...this.accounts.values()].filter((a) => a.wantRegistered).map((a) => a.config.id));
      for (const account of [...this.accounts.values()]) {
        await this.retireAccount(account);
        this.addAccount(account.config);
      }
      this.reorder(order);
      this.emit({ type: 'lease', lease: leaseStatus(moved) });
      for (const id of wanted) void this.register(id).catch((error: Error) => this.emit({ type: 'error', code: error instanceof PhoneError ? error.code : 'REGISTER_FAILED', message: error.message }));
    }).finally(() => {
      this.leaseMove = undefined;
    });
  }

  addAccount(config: AccountConfig): void {
    if (this.accounts.has(config.id)) throw new PhoneError('INVALID_ARGUMENT', `account ${config.id} already exists`);
    const servers = [config.server, ...(config.backupServers ?? [])].map((uri) => serverEndpoint(config, uri));
    const server = servers[0]!;
    const domain = accountDomain(config);
    const account: AccountRuntime = {
      config,
      server,
      servers,
      domain,
      registration: { accountId: config.id, state: 'unregistered' },
      router: new TraceRouter(),
      identities: undefined as unknown as AccountIdentities,
      wantRegistered: false,
    };
    account.identities = this.makeIdentities(account);
    if (servers.length > 1 || config.keepalive) {
      account.failover = new ServerFailover({
        servers,
        ...(config.keepalive ? { keepalive: config.keepalive } : {}),
        pingCurrent: async () => account.identities.registeredIdentity?.ping(config.keepalive?.timeoutMs ?? 2000),
        probe: (target) => this.probeServer(account, target),
        moveTo: async (target) => this.moveAccount(account, target),
        registerCurrent: () => account.identities.register(),
        registered: () => account.wantRegistered && !this.stopped,
        onEvent: (event) => {
          if (event.type === 'unreachable') return;
          const message = event.type === 'failover' ? `${config.id}: ${formatEndpoint(event.from)} did not answer (${event.reason}); now ${formatEndpoint(event.to)}` : `${config.id}: back to ${formatEndpoint(event.to)}`;
          this.emit({ type: 'error', code: event.type === 'failover' ? 'SERVER_FAILOVER' : 'SERVER_FAILBACK', message });
        },
      });
    }
    this.accounts.set(config.id, account);
  }

  /** The identities of an account at its current server (ARCHITECTURE.md: one UserAgent per identity). */
  private makeIdentities(account: AccountRuntime): AccountIdentities {
    const config = account.config;
    const server = account.server;
    const temporary = config.address?.mode === 'temporary' ? config.address : undefined;
    return new AccountIdentities({
      accountId: config.id,
      aor: `${config.user}@${account.domain}`,
      server,
      transport: config.transport,
      open: (placement) => this.openIdentity(account, placement),
      sourceAddress: async () => config.localAddress ?? (await sourceAddressFor(server.address, server.port)),
      ...(temporary
        ? {
            addresses: () =>
              (account.addresses ??= createAddressManager(temporary, {
                ...(this.ownershipJournal() ? { journal: this.ownershipJournal()! } : {}),
                ...(this.options.commandRunner ? { run: this.options.commandRunner } : {}),
              })),
          }
        : {}),
      ...(temporary && this.ownershipJournal() ? { journal: this.ownershipJournal()! } : {}),
      onAddress: (address) => this.emit({ type: 'address', address }),
      ...(temporary?.fallback === 'fixed' ? { fallbackToFixed: true } : {}),
      ...(temporary?.prepare === 'ahead' ? { prepareAhead: true } : {}),
      onAddressProblem: (message) => {
        account.addressProblem = message;
        this.emit({ type: 'error', code: 'ADDRESS_FAILED', message });
      },
    });
  }

  /** Seed 003 failover/failback: the account's identities move to another server; the old ones are dropped unheard. */
  private async moveAccount(account: AccountRuntime, target: Endpoint): Promise<void> {
    if (account.server.address === target.address && account.server.port === target.port) return;
    const old = account.identities;
    account.server = target;
    account.identities = this.makeIdentities(account);
    void old.dispose({ serverGone: true });
  }

  /** Does this server answer OPTIONS? A throwaway identity asks (the account's own identities stay where they are). */
  private async probeServer(account: AccountRuntime, target: Endpoint): Promise<number | undefined> {
    const identity = await SipIdentity.create({
      aor: { user: account.config.user, domain: account.domain },
      transport: account.config.transport,
      local: { address: account.config.localAddress ?? (await sourceAddressFor(target.address, target.port)), port: 0 },
      server: target,
      sessionDescriptionHandlerFactory: this.options.createSessionDescriptionHandlerFactory({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', portRange: this.options.mediaPortRange ?? { min: 16384, max: 32767 }, accountId: account.config.id }),
      ...(this.options.timers ? { timers: this.options.timers } : {}),
    });
    try {
      return await identity.ping(account.config.keepalive?.timeoutMs ?? 2000);
    } finally {
      await identity.dispose({ serverGone: true });
    }
  }

  subscribe(listener: (event: PhoneEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async snapshot(): Promise<PhoneSnapshot> {
    return {
      accounts: [...this.accounts.values()].map((a) => ({ ...a.config, ...(a.config.password ? { password: '********' } : {}) })),
      registrations: [...this.accounts.values()].map((a) => ({ ...a.registration })),
      addresses: await Promise.all([...this.accounts.values()].map((a) => this.addressStatus(a))),
      ...(this.lease ? { lease: leaseStatus(this.lease) } : {}),
      calls: [...this.calls.values()].map((c) => c.snapshot()),
      ...(this.options.network ? { network: this.options.network } : {}),
    };
  }

  async settings(): Promise<PhoneSettings> {
    return { accounts: [...this.accounts.values()].map((a) => masked(a.config)), storage: this.store ? 'file' : 'memory' };
  }

  updateAccount(input: AccountConfig): Promise<AccountConfig> {
    return this.serialized(async () => {
      if (this.stopped) throw new PhoneError('INVALID_STATE', 'the phone has been shut down');
      const existing = this.accounts.get(input.id);
      const config: AccountConfig = { ...input };
      // The settings view never sees a stored password: the mask (or nothing) keeps it, an empty one removes it.
      if (config.password === maskedPassword || config.password === undefined) {
        if (existing?.config.password !== undefined) config.password = existing.config.password;
        else delete config.password;
      } else if (config.password === '') delete config.password;
      if ([...this.calls.values()].some((c) => c.accountId === config.id)) throw new PhoneError('INVALID_STATE', `account ${config.id} has calls; change it after they end`);
      serverEndpoint(config, config.server); // a bad server is refused before the old account is torn down
      const order = [...this.accounts.keys()];
      if (existing) await this.retireAccount(existing);
      this.addAccount(config);
      if (existing) this.reorder(order);
      this.storedIds.add(config.id);
      this.saveSettings();
      this.emit({ type: 'registration', registration: { ...this.accounts.get(config.id)!.registration } });
      void this.register(config.id).catch((error: Error) => this.emit({ type: 'error', code: error instanceof PhoneError ? error.code : 'REGISTER_FAILED', message: error.message }));
      return masked(config);
    });
  }

  removeAccount(accountId: string): Promise<void> {
    return this.serialized(async () => {
      const account = this.account(accountId);
      if ([...this.calls.values()].some((c) => c.accountId === accountId)) throw new PhoneError('INVALID_STATE', `account ${accountId} has calls; remove it after they end`);
      await this.retireAccount(account);
      this.storedIds.delete(accountId);
      this.saveSettings();
      this.emit({ type: 'registration', registration: { accountId, state: 'unregistered' } });
    });
  }

  async register(accountId?: string): Promise<RegistrationSnapshot> {
    const account = this.account(accountId);
    await this.recovered();
    account.wantRegistered = true;
    if (account.failover) {
      await account.failover.register();
      account.failover.start();
    } else {
      await account.identities.register();
    }
    return { ...account.registration };
  }

  async unregister(accountId?: string): Promise<RegistrationSnapshot> {
    const account = this.account(accountId);
    account.wantRegistered = false;
    account.failover?.stop();
    await account.identities.unregister();
    return { ...account.registration };
  }

  async call(request: CallRequest): Promise<CallSnapshot> {
    await this.leaseMove; // accounts moving onto a new lease are not there to call from
    const account = this.account(request.accountId);
    if (this.calls.size >= this.maxCalls) throw new PhoneError('TOO_MANY_CALLS', `${this.calls.size} calls are going on, the most this phone takes at once`);
    const config = account.config;
    // SPEC A: the dial string, this call's choice and the account default decide what the INVITE presents.
    const privacy = planCallPrivacy({
      dialString: request.target,
      account: config.anonymity ?? presentByDefault,
      identity: { user: config.user, domain: account.domain },
      ...(request.anonymity !== undefined ? { anonymity: request.anonymity } : {}),
      ...(request.anonymityLevel !== undefined ? { level: request.anonymityLevel } : {}),
      ...(config.dialRules ? { rules: config.dialRules } : {}),
    });
    const uri = dialTargetToUri(privacy.target, account.domain);
    const shownUri = dialTargetToUri(matchDialRules(request.target, config.dialRules).rest, account.domain);
    await this.recovered();
    // Seed 003: a call that cannot fit in the leased range is refused before anything is sent; so is any call once
    // the lease is gone (RFC 2131 §4.4.5: the client must stop using it).
    const lease = this.lease;
    if (lease && leaseStatus(lease).state === 'lost') throw new PhoneError('LEASE_LOST', `the DHCP lease of ${lease.privateAddress} (ports ${lease.pool.range.min}-${lease.pool.range.max}) is gone; calls wait for a new one`);
    const needsSipPort = config.address?.mode === 'temporary';
    if (lease && !lease.pool.canFit({ rtpPairs: 1, ...(needsSipPort ? { sip: [config.transport] } : {}) })) {
      throw new PhoneError('PORT_RANGE_EXHAUSTED', `no room for another call in the leased ports ${lease.pool.range.min}-${lease.pool.range.max}`);
    }
    // Seed 000 Fig. 28: in temporary mode a fresh address, registered, carries this one call.
    const lent = await account.identities.forCall();
    let sip: SipCall;
    try {
      sip = lent.identity.createCall(uri, {
        extraHeaders: privacy.extraHeaders,
        ...(privacy.from ? { fromUri: privacy.from.uri, fromDisplayName: privacy.from.display } : {}),
      });
    } catch (error) {
      await lent.finish();
      throw new PhoneError('CALL_FAILED', (error as Error).message);
    }
    const call = new PhoneCall(config.id, sip, partyFrom({ uri: shownUri, ...(uriUser(shownUri) !== undefined ? { user: uriUser(shownUri)! } : {}) }), formatEndpoint(lent.identity.local), request.target);
    call.localAddress = lent.address;
    call.anonymity = privacy.mode;
    call.sent = sip.sentHeaders();
    this.track(account, call);
    void sip.whenEnded().then(() => lent.finish().catch((error: Error) => this.emit({ type: 'error', code: 'ADDRESS_FAILED', message: error.message })));
    void sip.invite().catch((error: Error) => this.emit({ type: 'error', code: 'CALL_FAILED', message: error.message }));
    return call.snapshot();
  }

  async answer(callId: string): Promise<void> {
    await this.guard(() => this.callById(callId).sip.answer());
  }

  async reject(callId: string, status = 486): Promise<void> {
    await this.guard(() => this.callById(callId).sip.reject(status));
  }

  async hangup(callId: string): Promise<void> {
    await this.guard(() => this.callById(callId).sip.hangup());
  }

  async hold(callId: string, on: boolean): Promise<void> {
    const call = this.callById(callId);
    const status = await this.guard(() => call.sip.hold(on));
    if (status >= 300) throw new PhoneError('CALL_FAILED', `${on ? 'hold' : 'resume'} was answered ${status}`, status);
  }

  async mute(callId: string, on: boolean): Promise<void> {
    const call = this.callById(callId);
    call.muted = on;
    const media = call.media;
    if (media) media.muted = on;
    this.emitCall(call);
  }

  async sendDtmf(callId: string, digits: string, method: DtmfMethod = 'rfc4733'): Promise<void> {
    if (!/^[0-9A-D*#]+$/i.test(digits)) throw new PhoneError('INVALID_ARGUMENT', `"${digits}" are not DTMF digits (0-9, *, #, A-D)`);
    const call = this.callById(callId);
    if (method === 'info') {
      for (const digit of digits.toUpperCase()) {
        await this.guard(() => call.sip.info('application/dtmf-relay', `Signal=${digit}\r\nDuration=160\r\n`));
      }
      return;
    }
    const handler = call.sip.sessionDescriptionHandler;
    if (!handler || !handler.sendDtmf(digits)) throw new PhoneError('MEDIA_FAILED', 'RFC 4733 DTMF is not available on this call');
  }

  async history(filter?: CallLogFilter): Promise<CallLogPage> {
    return this.callLog.listCalls(filter);
  }

  /** A call with its trace; each message with its signatures decoded and checked now (the stored trace stays raw). */
  async callDetail(id: string): Promise<CallLogDetail | undefined> {
    const detail = this.callLog.getCall(id);
    if (!detail) return undefined;
    const files = this.options.signatureKeys?.();
    const keys = files && files.length > 0 ? new VerificationKeys(files) : undefined;
    return { ...detail, messages: callTraceSignatures(detail.messages, keys) };
  }

  async exportCalls(ids: string[], format: CallLogExportFormat): Promise<CallLogFile> {
    try {
      return callLogFile(this.callLog.getCalls(ids), format);
    } catch (error) {
      if (error instanceof CallLogError && error.code === 'UNKNOWN_CALL') throw new PhoneError('UNKNOWN_CALL', error.message);
      throw new PhoneError('EXPORT_FAILED', (error as Error).message);
    }
  }

  /** The live SIP call behind a call id (scenario runner and media wiring). */
  sipCall(callId: string): SipCall {
    return this.callById(callId).sip;
  }

  /** The plain-RTP media session of a live call, once negotiated (scenario steps play, record, and media checks). */
  mediaOf(callId: string): MediaSession | undefined {
    return this.calls.get(callId)?.media;
  }

  /** Hang up every call, unregister every account, release every socket. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unwatchLease?.();
    // A callee's BYE waits for the ACK of its 200 (RFC 3261 §15), up to 64·T1: shutdown gives it a short grace only.
    for (const account of this.accounts.values()) account.failover?.stop();
    const grace = 8 * (this.options.timers?.t1 ?? defaultSipTimers.t1);
    await Promise.race([Promise.allSettled([...this.calls.values()].map((c) => c.sip.hangup())), new Promise((resolve) => setTimeout(resolve, grace).unref())]);
    await Promise.allSettled([...this.accounts.values()].map((a) => a.identities.dispose()));
    await Promise.allSettled([...this.accounts.values()].map(async (a) => (a.addresses ? (await a.addresses).close() : undefined)));
    this.journal?.close();
    if (this.ownsCallLog) this.callLog.close();
    else this.callLog.flush();
    await this.lease?.release?.().catch(() => undefined);
  }

  /** Settings changes one at a time: each re-creates an account, which must not interleave with another. */
  private serialized<T>(action: () => Promise<T>): Promise<T> {
    const next = this.settingsQueue.then(action, action);
    this.settingsQueue = next.catch(() => undefined);
    return next;
  }

  /** Unregister an account and release all it holds; it is gone from the phone afterwards. */
  private async retireAccount(account: AccountRuntime): Promise<void> {
    this.accounts.delete(account.config.id);
    account.wantRegistered = false;
    account.failover?.stop();
    await account.identities.dispose().catch(() => undefined);
    if (account.addresses) await (await account.addresses.catch(() => undefined))?.close();
  }

  private reorder(order: string[]): void {
    const entries = [...this.accounts.entries()].sort(([a], [b]) => rank(order, a) - rank(order, b));
    this.accounts.clear();
    for (const [id, account] of entries) this.accounts.set(id, account);
  }

  private saveSettings(): void {
    if (!this.store) return;
    this.store.save([...this.accounts.values()].filter((a) => this.storedIds.has(a.config.id)).map((a) => a.config));
  }

  private account(accountId: string | undefined): AccountRuntime {
    if (this.stopped) throw new PhoneError('INVALID_STATE', 'the phone has been shut down');
    const account = accountId === undefined ? this.accounts.values().next().value : this.accounts.get(accountId);
    if (!account) throw new PhoneError('UNKNOWN_ACCOUNT', accountId === undefined ? 'no account is configured' : `no account "${accountId}"`);
    return account;
  }

  private callById(callId: string): PhoneCall {
    const call = this.calls.get(callId);
    if (!call) throw new PhoneError('UNKNOWN_CALL', `no active call "${callId}"`);
    return call;
  }

  private async addressStatus(account: AccountRuntime): Promise<AddressStatus> {
    const problem = account.addressProblem !== undefined ? { problem: account.addressProblem } : {};
    if (account.config.address?.mode !== 'temporary') return { accountId: account.config.id, mode: 'fixed', active: [], ...problem };
    const manager = account.addresses ? await account.addresses.catch(() => undefined) : undefined;
    if (!manager) return { accountId: account.config.id, mode: 'temporary', source: account.config.address.source, active: [], ...problem };
    const status = manager.status();
    return { accountId: account.config.id, mode: 'temporary', applier: status.mode, reason: status.reason, source: status.source, active: status.active, ...problem };
  }

  /** The ownership journal, opened on first need when a data dir is set and an account uses one-time addresses. */
  private ownershipJournal(): OwnershipJournal | undefined {
    if (this.journal || this.options.dataDir === undefined) return this.journal;
    this.journal = OwnershipJournal.open(this.options.dataDir);
    return this.journal;
  }

  /** Before the first identity: remove what a crashed earlier run left behind (SPEC B). Runs once. */
  private recovered(): Promise<void> {
    const journal = [...this.accounts.values()].some((a) => a.config.address?.mode === 'temporary') ? this.ownershipJournal() : undefined;
    if (!journal) return Promise.resolve();
    this.recovery ??= cleanUpLeftovers({
      journal,
      ...(this.options.commandRunner ? { run: this.options.commandRunner } : {}),
      credentials: (aor) => {
        const config = [...this.accounts.values()].find((a) => `${a.config.user}@${a.domain}` === aor)?.config;
        return config?.password !== undefined ? { username: config.authUser ?? config.user, password: config.password } : undefined;
      },
      sessionDescriptionHandlerFactory: this.options.createSessionDescriptionHandlerFactory({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', portRange: this.options.mediaPortRange ?? { min: 16384, max: 32767 }, accountId: '' }),
      ...(this.options.timers ? { timers: this.options.timers } : {}),
    }).then(
      (result) => {
        if (result.bindingsKept.length > 0) this.emit({ type: 'error', code: 'CLEANUP_PENDING', message: `registrations left by an earlier run could not be removed yet: ${result.bindingsKept.join(', ')}` });
      },
      (error: Error) => this.emit({ type: 'error', code: 'CLEANUP_FAILED', message: error.message }),
    );
    return this.recovery;
  }

  private async openIdentity(account: AccountRuntime, placement: IdentityPlacement): Promise<SipIdentity> {
    const lease = this.lease;
    if (!lease) return this.createIdentity(account, placement, 0);
    // Seed 003: the SIP socket's port comes from the leased range, never from the OS; one a stranger holds is skipped.
    for (let attempt = 0; ; attempt++) {
      const reservation = takeLeased(() => lease.pool.takeSip(account.config.transport, account.config.id));
      try {
        return await this.createIdentity(account, placement, reservation.port, () => reservation.release());
      } catch (error) {
        reservation.release();
        if (!(error instanceof PhoneError && /EADDRINUSE|EACCES/.test(error.message)) || attempt >= 8) throw error;
        lease.pool.markUnusable(reservation.port);
      }
    }
  }

  private async createIdentity(account: AccountRuntime, placement: IdentityPlacement, port: number, onDisposed?: () => void): Promise<SipIdentity> {
    const config = account.config;
    const lease = this.lease;
    const portRange = lease ? lease.pool.range : (this.options.mediaPortRange ?? { min: 16384, max: 32767 });
    // Seed 003 Fig. 11: the registrar learns the private address and the NAT's public one (docs/provisioning.md).
    const natParams = lease ? natContactParams(natAddresses(lease.privateAddress, port, lease.natAddress)) : [];
    try {
      const identity: SipIdentity = await SipIdentity.create({
        aor: { user: config.user, domain: account.domain },
        ...(config.displayName !== undefined ? { displayName: config.displayName } : {}),
        ...(config.password !== undefined ? { auth: { username: config.authUser ?? config.user, password: config.password } } : {}),
        transport: config.transport,
        local: { address: placement.bindAddress, port },
        ...(placement.advertisedAddress !== placement.bindAddress ? { advertisedAddress: placement.advertisedAddress } : {}),
        server: account.server,
        ...(config.directCalls ? {} : { acceptFrom: account.servers }),
        ...(config.registerExpires !== undefined ? { registerExpires: config.registerExpires } : {}),
        ...(natParams.length > 0 ? { extraContactParams: natParams } : {}),
        sessionDescriptionHandlerFactory: this.options.createSessionDescriptionHandlerFactory({
          advertisedAddress: placement.advertisedAddress,
          bindAddress: placement.bindAddress,
          portRange,
          accountId: config.id,
          ...(lease ? { rtpPairs: { takeRtpPair: (owner?: string) => lease.pool.takeRtpPair(owner ?? config.id) } } : {}),
        }),
        tap: (entry) => {
          account.router.tap(entry);
          this.options.onTrace?.(config.id, entry);
        },
        ...(this.options.timers ? { timers: this.options.timers } : {}),
        onIncomingCall: (sip) => this.onIncoming(account, sip, identity),
        onCallFault: (sip, reason) => this.emit({ type: 'error', code: 'SIP_STACK_FAULT', message: `call ${sip.callId}: ${reason}; the call was ended` }),
        onRegistrationChange: (state, detail) => {
          // The account's registration is its receiving identity's; a per-call sending identity or a retired
          // receiving one does not change what the status bar says.
          if (!account.identities.speaksFor(identity)) return;
          account.registration = { accountId: config.id, state, contact: identity.contactUri, server: formatEndpoint(account.server), ...detail };
          this.emit({ type: 'registration', registration: { ...account.registration } });
        },
        ...(onDisposed ? { onDisposed } : {}),
      });
      return identity;
    } catch (error) {
      if (error instanceof SipIdentityError) throw new PhoneError('TRANSPORT_FAILED', error.message);
      throw error;
    }
  }

  private onIncoming(account: AccountRuntime, sip: SipCall, identity: SipIdentity): void {
    // SPEC A: an anonymous caller is shown as such, with no callback number.
    const anonymity = detectIncomingAnonymity({
      ...(sip.remote.user !== undefined ? { fromUser: sip.remote.user } : {}),
      ...(sip.remote.display !== undefined ? { fromDisplay: sip.remote.display } : {}),
      ...(hostOfUri(sip.remote.uri) !== undefined ? { fromHost: hostOfUri(sip.remote.uri)! } : {}),
      ...(sip.inviteHeaders.privacy?.[0] !== undefined ? { privacy: sip.inviteHeaders.privacy[0] } : {}),
    });
    if (this.calls.size >= this.maxCalls) {
      void sip.reject(486, 'Busy Here').catch(() => undefined); // RFC 3261 §21.4.24
      this.refusedOverLimit++;
      const now = Date.now();
      if (now - this.lastLimitReport >= 10_000) {
        this.lastLimitReport = now;
        this.emit({ type: 'error', code: 'TOO_MANY_CALLS', message: `incoming calls refused with 486: ${this.calls.size} calls at once is the most (${this.refusedOverLimit} refused so far)` });
      }
      return;
    }
    // RFC 3261 §8.2.2.2: a Call-ID this account already has a call for is a merged request or a loop — a forking
    // registrar delivering one INVITE to two of its identities (the receiving one and a per-call sending one), or the
    // account's own INVITE coming back to it (it called its own number; sip.js would have caught that by its
    // per-UserAgent Call-ID prefix, which sip-identity.ts no longer uses).
    if ([...this.calls.values()].some((c) => c.accountId === account.config.id && c.sip.callId === sip.callId && c.sip !== sip)) {
      void sip.reject(482, 'Loop Detected').catch(() => undefined);
      return;
    }
    const call = new PhoneCall(account.config.id, sip, partyFrom(sip.remote, anonymity.anonymous), formatEndpoint(identity.local));
    call.localAddress = identity.advertisedAddress;
    this.track(account, call);
    // Seed 000 Fig. 29: a receiving address serves one call, then a new one is registered in its place.
    void sip.whenEnded().then(() => account.identities.incomingEnded(identity).catch((error: Error) => this.emit({ type: 'error', code: 'ADDRESS_FAILED', message: error.message })));
    // A call refused at once is logged and shown in the history, but never rings: no incoming event, so no
    // notification and no incoming-call view for a call the user could not take anyway.
    const refusal = this.refusalOf(account, sip, identity);
    if (refusal) {
      void sip.reject(refusal.status, refusal.reason, refusal.headers).catch(() => undefined);
      return;
    }
    this.emit({ type: 'incoming', call: call.snapshot() });
    void sip.ring().catch(() => undefined);
    const answer = account.config.answer ?? { kind: 'manual' };
    if (answer.kind === 'auto') {
      const answerNow = (): void => void sip.answer().catch(() => undefined);
      if (answer.delayMs) setTimeout(answerNow, answer.delayMs);
      else setImmediate(answerNow); // after the 180 went out, without a timer's extra millisecond
    }
  }

  /** Why an incoming call is refused before it rings, if it is: what to answer. */
  private refusalOf(account: AccountRuntime, sip: SipCall, identity: SipIdentity): { status: number; reason?: string; headers?: string[] } | undefined {
    const offer = sip.inviteBody;
    const problem = offer && /^application\/sdp\b/i.test(offer.contentType) ? this.options.createSessionDescriptionHandlerFactory.offerProblem?.(offer.body) : undefined;
    if (problem !== undefined) {
      // RFC 3261 §21.4.26 with a Warning (§20.43, code 305: incompatible media format) saying what was wrong.
      const warning = `305 ${identity.local.address.includes(':') ? `[${identity.local.address}]` : identity.local.address} "${problem.replace(/["\\\r\n]/g, ' ').slice(0, 120)}"`;
      return { status: 488, reason: 'Not Acceptable Here', headers: [`Warning: ${warning}`] };
    }
    if (this.lease && leaseStatus(this.lease).state === 'lost') return { status: 503, reason: 'Service Unavailable (lease lost)' }; // RFC 3261 §21.5.4
    const answer = account.config.answer ?? { kind: 'manual' };
    if (answer.kind === 'reject') return { status: answer.status };
    return undefined;
  }

  private track(account: AccountRuntime, call: PhoneCall): void {
    this.calls.set(call.id, call);
    const snapshot = call.snapshot();
    this.callLog.startCall({
      id: call.id,
      accountId: call.accountId,
      direction: snapshot.direction,
      sipCallId: snapshot.sipCallId,
      remoteShown: snapshot.remote.shown,
      remoteUri: snapshot.remote.uri,
      remoteAnonymous: snapshot.remote.anonymous,
      startedAt: snapshot.startedAt,
      localSip: call.localSip,
      remoteSip: formatEndpoint(account.server),
      transport: account.config.transport,
      ports: this.lease?.pool.range ?? this.options.mediaPortRange ?? defaultMediaPorts,
      ...(this.lease ? { lease: leaseText(this.lease) } : {}),
      ...(call.localAddress !== undefined ? { localAddress: call.localAddress } : {}),
      ...(snapshot.remote.user !== undefined ? { remoteUser: snapshot.remote.user } : {}),
      ...(call.dialed !== undefined ? { dialed: call.dialed } : {}),
      ...(call.anonymity !== undefined ? { anonymity: call.anonymity } : {}),
      ...(call.sent ? { sentFrom: call.sent.from, sentTo: call.sent.to, sentRequestUri: call.sent.requestUri } : {}),
    });
    account.router.claim(snapshot.sipCallId, (entry) => this.callLog.appendMessage(call.id, entry));
    let mediaAttached = false;
    call.sip.onChange(() => {
      const media = call.media;
      if (!mediaAttached && media) {
        mediaAttached = true;
        media.muted = call.muted;
        this.audio?.attach(call.id, media);
        media.onDigit((digit) => this.emit({ type: 'dtmf', callId: call.id, digit: digit.digit, durationMs: digit.durationMs }));
        media.onNegotiated((stats) => {
          // RFC 3264 §8.4: a peer that offers sendonly or inactive is holding the call.
          call.remoteHold = stats.remoteDirection === 'sendonly' || stats.remoteDirection === 'inactive';
          this.emitCall(call);
        });
      }
      if (call.sip.state === 'terminated' && media) call.finalMedia = media.stats();
      this.emitCall(call);
    });
    call.sip.onInfoDigit((digit) => this.emit({ type: 'dtmf', callId: call.id, digit: digit.digit, durationMs: digit.durationMs }));
    void call.sip.whenEnded().then(() => {
      this.audio?.detach(call.id);
      account.router.release(snapshot.sipCallId);
      this.calls.delete(call.id);
      this.moveToNewLeaseWhenIdle(); // the last call on a lost lease has ended
    });
    this.emitCall(call);
  }

  private emitCall(call: PhoneCall): void {
    const snapshot = call.snapshot();
    try {
      this.callLog.updateCall(call.id, {
        result: callResult(snapshot),
        ...(snapshot.status !== undefined ? { status: snapshot.status } : {}),
        ...(snapshot.reason !== undefined ? { reason: snapshot.reason } : {}),
        ...(snapshot.answeredAt !== undefined ? { answeredAt: snapshot.answeredAt } : {}),
        ...(snapshot.endedAt !== undefined ? { endedAt: snapshot.endedAt } : {}),
        ...(snapshot.endedBy !== undefined ? { endedBy: snapshot.endedBy } : {}),
        ...(snapshot.media ? { localRtp: snapshot.media.localRtp } : {}),
        ...(snapshot.media?.remoteRtp !== undefined ? { remoteRtp: snapshot.media.remoteRtp } : {}),
        ...(snapshot.media?.codec !== undefined ? { codec: snapshot.media.codec } : {}),
        ...(snapshot.redirects ? { redirects: snapshot.redirects } : {}),
      });
    } catch (error) {
      this.emit({ type: 'error', code: 'STORAGE_FAILED', message: (error as Error).message });
    }
    this.emit({ type: 'call', call: snapshot });
  }

  private emit(event: PhoneEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a faulty listener must not break the phone or the other listeners
      }
    }
  }

  /** Map SIP-layer failures to PhoneErrors with codes a UI understands. */
  private async guard<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof PhoneError) throw error;
      if (error instanceof SipCallError) throw new PhoneError(error.code === 'INVALID_STATE' ? 'INVALID_STATE' : 'CALL_FAILED', error.message, error.status);
      throw new PhoneError('CALL_FAILED', (error as Error).message);
    }
  }
}

/** A configuration as a UI may see it: the password masked. */
function masked(config: AccountConfig): AccountConfig {
  return { ...config, ...(config.password ? { password: maskedPassword } : {}) };
}

function rank(order: string[], id: string): number {
  const index = order.indexOf(id);
  return index === -1 ? order.length : index;
}
