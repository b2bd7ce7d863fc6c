import { PhoneError } from '../api/phone-error.js';
import type { OwnershipJournal } from '../address/address-journal.js';
import type { CommandRunner } from '../address/command-runner.js';
import { natAddresses, natContactParams } from '../lease/nat-contact.js';
import type { SipCall } from '../sip/sip-call.js';
import { SipIdentity, SipIdentityError } from '../sip/sip-identity.js';
import { formatEndpoint, isSecureTransport } from '../sip/transport/endpoint.js';
import { accountMediaEncryption, accountTlsSettings } from './account-tls.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import type { SipSockets } from '../sip/transport/sip-sockets.js';
import { defaultSipTimers, type SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import { AccountIdentities, type IdentityPlacement } from './account-identities.js';
import { createAddressManager } from './address-setup.js';
import type { MediaFactoryProvider } from './media-factory.js';
import type { AccountRuntime } from './phone-accounts.js';
import type { FailedStep } from './failure-tally.js';
import type { FailedUnregistration } from './unremoved-bindings.js';
import type { EmitPhoneEvent } from './phone-events.js';
import { takeLeased, type PhoneLease } from './phone-lease.js';

export interface LeasedIdentitiesOptions {
  media: MediaFactoryProvider;
  /** Where every identity's socket comes from. */
  sockets: SipSockets;
  mediaPortRange?: { min: number; max: number };
  timers?: SipTimerValues;
  /** Every SIP message of every account, as it crossed the socket. */
  onTrace?: (accountId: string, entry: SipTapEntry) => void;
  commandRunner?: CommandRunner;
  /** The lease the phone runs on now, if any: every identity's ports come from it. */
  lease: () => PhoneLease | undefined;
  /** The ownership journal one-time addresses and their bindings go to, if the phone keeps one. */
  journal: () => OwnershipJournal | undefined;
  emit: EmitPhoneEvent;
  failed: FailedStep;
  /** An INVITE reached one of the account's identities. */
  onIncoming: (account: AccountRuntime, sip: SipCall, identity: SipIdentity) => void;
  /** A one-time binding the registrar did not confirm removing. */
  onUnregisterFailed?: (binding: FailedUnregistration) => void;
  /** Whether this runtime is still the account's (a settings change replaces it): only then does it report. */
  isCurrent?: (account: AccountRuntime) => boolean;
}

/**
 * Creates an account's SIP identities (ARCHITECTURE.md: one UserAgent per identity) where they belong: on the address
 * the account's mode gives them, and on a SIP port of the leased range when the phone runs on a lease (seed 003).
 */
export class LeasedIdentities {
  constructor(private readonly options: LeasedIdentitiesOptions) {}

  /** The identities of an account at its current server (ARCHITECTURE.md: one UserAgent per identity). */
  identitiesFor(account: AccountRuntime): AccountIdentities {
    const config = account.config;
    const server = account.server;
    const temporary = config.address?.mode === 'temporary' ? config.address : undefined;
    const journal = (): OwnershipJournal | undefined => this.options.journal();
    return new AccountIdentities({
      accountId: config.id,
      aor: `${config.user}@${account.domain}`,
      server,
      transport: config.transport,
      open: (placement) => this.openReported(account, placement),
      sourceAddress: async () => config.localAddress ?? (await this.options.sockets.sourceAddressFor(server.address, server.port)),
      ...(temporary
        ? {
            addresses: () =>
              (account.addresses ??= createAddressManager(temporary, {
                ...(journal() ? { journal: journal()! } : {}),
                ...(this.options.commandRunner ? { run: this.options.commandRunner } : {}),
              })),
          }
        : {}),
      ...(temporary && journal() ? { journal: journal()! } : {}),
      onAddress: (address) => this.options.emit({ type: 'address', address }),
      ...(temporary?.fallback === 'fixed' ? { fallbackToFixed: true } : {}),
      ...(temporary?.prepare === 'ahead' ? { prepareAhead: true } : {}),
      failed: this.options.failed,
      shutdownGraceMs: 8 * (this.options.timers?.t1 ?? defaultSipTimers.t1),
      ...(this.options.onUnregisterFailed ? { onUnregisterFailed: this.options.onUnregisterFailed } : {}),
      onAddressProblem: (message) => {
        account.addressProblem = message;
        this.options.emit({ type: 'error', code: 'ADDRESS_FAILED', message });
      },
    });
  }

  /**
   * Opens an identity; when the account's own registering identity cannot be opened (its TCP or TLS server refuses the
   * connection, no port to bind), that is the account's registration failing: the status bar says so, and the
   * account's retry (registration-retry.ts) tries again later when the cause may pass. Before this, an account whose
   * server was down when it was made stayed "Not registered" for good.
   */
  private async openReported(account: AccountRuntime, placement: IdentityPlacement): Promise<SipIdentity> {
    try {
      return await this.openIdentity(account, placement);
    } catch (error) {
      // the account's own registering identity, wanted registered (not one opened to place a call), of the runtime in use
      const ownRegistration = placement.purpose === 'fixed' && placement.server === undefined && !account.failover && account.wantRegistered && (this.options.isCurrent?.(account) ?? true);
      if (ownRegistration && error instanceof PhoneError && (error.code === 'TRANSPORT_FAILED' || error.code === 'TLS_FAILED')) {
        // a TLS failure (a certificate refused) is no passing cause: reported, not retried
        const detail = error.code === 'TRANSPORT_FAILED' ? { reason: error.message, cause: 'unreachable' as const } : { reason: error.message };
        account.registration = { accountId: account.config.id, state: 'failed', server: formatEndpoint(account.server), ...detail };
        account.retry?.changed('failed', detail);
        withRetryTime(account);
        this.options.emit({ type: 'registration', registration: { ...account.registration } });
      }
      throw error;
    }
  }

  private async openIdentity(account: AccountRuntime, placement: IdentityPlacement): Promise<SipIdentity> {
    const lease = this.options.lease();
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
    const server = placement.server ?? account.server;
    const lease = this.options.lease();
    const portRange = lease ? lease.pool.range : (this.options.mediaPortRange ?? { min: 16384, max: 32767 });
    // Seed 003 Fig. 11: the registrar learns the private address and the NAT's public one (docs/provisioning.md).
    const natParams = lease ? natContactParams(natAddresses(lease.privateAddress, port, lease.natAddress)) : [];
    try {
      const identity: SipIdentity = await SipIdentity.create({
        aor: { user: config.user, domain: account.domain },
        ...(config.displayName !== undefined ? { displayName: config.displayName } : {}),
        ...(config.password !== undefined ? { auth: { username: config.authUser ?? config.user, password: config.password } } : {}),
        transport: config.transport,
        ...(isSecureTransport(config.transport) ? { tls: accountTlsSettings(config, server) } : {}),
        local: { address: placement.bindAddress, port },
        ...(placement.advertisedAddress !== placement.bindAddress ? { advertisedAddress: placement.advertisedAddress } : {}),
        server,
        ...(config.directCalls ? {} : { acceptFrom: account.servers }),
        ...(config.registerExpires !== undefined ? { registerExpires: config.registerExpires } : {}),
        ...(natParams.length > 0 ? { extraContactParams: natParams } : {}),
        sessionDescriptionHandlerFactory: this.options.media({
          advertisedAddress: placement.advertisedAddress,
          bindAddress: placement.bindAddress,
          portRange,
          accountId: config.id,
          ...accountMediaEncryption(config),
          ...(config.latching !== undefined ? { latch: config.latching === 'on' } : {}),
          ...(lease ? { rtpPairs: { takeRtpPair: (owner?: string) => lease.pool.takeRtpPair(owner ?? config.id) } } : {}),
        }),
        tap: (entry) => {
          account.router.tap(entry);
          this.options.onTrace?.(config.id, entry);
        },
        ...(this.options.timers ? { timers: this.options.timers } : {}),
        onIncomingCall: (sip) => this.options.onIncoming(account, sip, identity),
        onCallFault: (sip, reason) => this.options.emit({ type: 'error', code: 'SIP_STACK_FAULT', message: `call ${sip.callId}: ${reason}; the call was ended` }),
        onRegistrationChange: (state, detail) => {
          // The account's registration is its receiving identity's; a per-call sending identity or a retired
          // receiving one does not change what the status bar says.
          if (!account.identities.speaksFor(identity)) return;
          const { retryAfterMs, ...shown } = detail;
          account.registerNotBefore = retryAfterMs !== undefined ? Date.now() + retryAfterMs : undefined;
          account.registration = { accountId: config.id, state, contact: identity.contactUri, server: formatEndpoint(account.server), ...shown };
          account.retry?.changed(state, detail);
          withRetryTime(account);
          this.options.emit({ type: 'registration', registration: { ...account.registration } });
        },
        ...(onDisposed ? { onDisposed } : {}),
        sockets: this.options.sockets,
      });
      return identity;
    } catch (error) {
      if (error instanceof SipIdentityError) throw new PhoneError(error.code === 'TLS_FAILED' ? 'TLS_FAILED' : 'TRANSPORT_FAILED', error.message);
      throw error;
    }
  }
}

/** The account's snapshot says when the phone tries to register again by itself, if it will. */
function withRetryTime(account: AccountRuntime): void {
  const at = account.retry?.nextAttemptAt;
  if (at !== undefined && account.registration.state !== 'registered') account.registration.retryAt = at;
}
