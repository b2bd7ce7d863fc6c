import type { AccountIdentities, LeftBinding } from './account-identities.js';
import { accountTlsSettings } from './account-tls.js';
import { PhoneError } from '../api/phone-error.js';
import { anonymousFrom } from '../privacy/anonymity.js';
import { SipIdentity } from '../sip/sip-identity.js';
import { formatEndpoint, isSecureTransport, sameEndpoint, type Endpoint } from '../sip/transport/endpoint.js';
import type { SipSockets } from '../sip/transport/sip-sockets.js';
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import { throwawayMedia, type MediaFactoryProvider } from './media-factory.js';
import type { FailedStep } from './failure-tally.js';
import type { AccountRuntime } from './phone-accounts.js';
import { lostForNow } from './registration-retry.js';
import type { EmitPhoneEvent } from './phone-events.js';
import { ServerFailover } from './server-failover.js';

/** `sip:anonymous@anonymous.invalid` (RFC 3323 §4.1.1.3), as an identity's address-of-record. */
const anonymousAor = (([user, domain]) => ({ user: user!, domain: domain! }))(anonymousFrom.uri.replace(/^sip:/, '').split('@'));

export interface AccountFailoverOptions {
  /** The account's servers: the one it uses first, then its backups. */
  servers: Endpoint[];
  /** New identities for the account at its (new) server. */
  identitiesFor: (account: AccountRuntime) => AccountIdentities;
  media: MediaFactoryProvider;
  sockets: SipSockets;
  mediaPortRange?: { min: number; max: number };
  timers?: SipTimerValues;
  stopped: () => boolean;
  emit: EmitPhoneEvent;
  /** Counts a best-effort step that failed (registrations left at a server not erased on return). */
  failed: FailedStep;
}

/**
 * Seed 003 failover and failback for one account: a ServerFailover when the account has a backup server or
 * keep-alives (undefined otherwise), which moves the account's identities between its servers.
 */
export function accountFailover(account: AccountRuntime, options: AccountFailoverOptions): ServerFailover | undefined {
  const { servers } = options;
  const config = account.config;
  if (!(servers.length > 1 || config.keepalive)) return undefined;
  // What identities left at each server they failed over from (known once they are gone: those with a call wait for
  // its end), erased once the account registers there again
  const leftAt = new Map<string, LeftBinding[]>();
  const leave = (server: Endpoint, left: Promise<LeftBinding[]>): void => {
    void left.then((bindings) => {
      if (bindings.length === 0) return;
      const key = formatEndpoint(server);
      leftAt.set(key, [...(leftAt.get(key) ?? []), ...bindings]);
      // known only after the account came back there (a call kept the old identities): erased now
      if (sameEndpoint(account.server, server) && account.registration.state === 'registered') void eraseLeftAtCurrent();
    }, () => undefined);
  };
  // Identities being given up (failback unregisters them at the server left): a shutdown waits for them
  const settling = new Set<Promise<unknown>>();
  // Identities left at a server that failed, kept while calls on them go on
  const lingering = new Map<AccountIdentities, { serverGone: boolean }>();
  const settle = (step: Promise<unknown>): void => {
    const tracked = step.catch(options.failed("closing an account's identities")).finally(() => settling.delete(tracked));
    settling.add(tracked);
  };
  /** Erase, from the identities now in use, what earlier ones left at the account's server (before registering there). */
  const eraseLeftAtCurrent = async (): Promise<void> => {
    const key = formatEndpoint(account.server);
    const left = leftAt.get(key);
    if (!left) return;
    leftAt.delete(key);
    await account.identities.eraseLeftBindings(left).catch(options.failed('erasing the registrations left at a server the account came back to'));
  };
  return new ServerFailover({
    servers,
    ...(config.keepalive ? { keepalive: config.keepalive } : {}),
    ...(config.keepalive?.primaryRetryMs !== undefined ? { primaryRetryMs: config.keepalive.primaryRetryMs } : {}),
    // No identity yet (its TCP server was down when the account was made): a fixed account asks from a throwaway one,
    // as a probe does. Not a one-time-address account: an OPTIONS from the host's address just before its REGISTER
    // from a one-time one would tie the two together, at every round (SPEC B); it cannot tell, and waits.
    pingCurrent: async () => {
      const identity = account.identities.registeredIdentity;
      if (identity) return identity.ping(config.keepalive?.timeoutMs ?? 2000);
      return config.address?.mode === 'temporary' ? undefined : probeServer(account, account.server, options);
    },
    // lost, and a one-time-address account still has its receiving identity: each new try would lease and show a new
    // address (phone.ts gives such accounts no retry for the same reason)
    // (and not before the time a Retry-After of the server's asked for)
    lost: () =>
      lostForNow(account.registration.state, account.registration) &&
      (config.address?.mode !== 'temporary' || account.identities.registeredIdentity !== undefined) &&
      !(account.registerNotBefore !== undefined && Date.now() < account.registerNotBefore),
    probe: (target) => probeServer(account, target, options),
    moveTo: async (target) => {
      if (sameEndpoint(account.server, target)) return;
      const from = account.server;
      // IPv4 from an address server holds one address at a time (seed 000): its call cannot outlive the move
      const single = await account.identities.holdsOneAddressAtATime().catch(() => false);
      const old = moveAccount(account, target, options);
      // calls up on the server that failed go on to their end (their media does not pass it); then the old go
      lingering.set(old, { serverGone: true });
      const left = (single ? old.dispose({ serverGone: true }) : old.serverFailed().then(() => old.dispose({ serverGone: true }))).finally(() => lingering.delete(old));
      leave(from, left);
      settle(left);
    },
    tryServer: async (target) => {
      const from = account.server;
      const old = account.identities;
      const registration = { ...account.registration };
      // IPv4 from an address server: one address at a time (seed 000), so the old identities go first, unregistered
      // at the server that still answers; on a refusal the account registers there again with new ones.
      const single = await old.holdsOneAddressAtATime();
      if (single) await old.dispose();
      moveAccount(account, target, options);
      const fresh = account.identities;
      if (!single) fresh.former = old; // still registered where it was, it takes calls until the attempt is settled
      return {
        keep: () => {
          fresh.former = undefined;
          if (single) return;
          // a call that reached the server left during the attempt goes on to its end; then the old identities are
          // unregistered there (it still answers)
          lingering.set(old, { serverGone: false });
          settle(
            old
              .callsOver()
              .then(() => old.dispose())
              .finally(() => lingering.delete(old)),
          );
        },
        undo: async () => {
          fresh.former = undefined;
          const left = fresh.dispose({ serverGone: true });
          leave(target, left);
          settle(left);
          // the phone shut down or the account was closed meanwhile (its REGISTER failed so): the old identities go
          // too, nothing is restored. Unregistered by the user (not shut down): the account is back where it was, with
          // identities opened when next needed — left on the disposed new ones, it could never register again
          if (options.stopped() || !account.wantRegistered) {
            if (!single) settle(old.dispose());
            if (!options.stopped()) {
              account.server = from;
              account.identities = options.identitiesFor(account);
            }
            return;
          }
          account.server = from;
          account.identities = single ? options.identitiesFor(account) : old;
          if (single) {
            await account.identities.register();
          } else {
            // the refused REGISTER said "failed" for the account: it is registered where it was, as before
            account.registration = registration;
            options.emit({ type: 'registration', registration: { ...registration } });
          }
        },
      };
    },
    registerCurrent: async () => {
      // before the REGISTER: an IPv4 account holds its one address only after the clean-up gave its own back
      await eraseLeftAtCurrent();
      await account.identities.register();
    },
    settled: async () => {
      // closing (a shutdown, the account removed): calls still up on a failed server's identities end now
      for (const [old, how] of lingering) void old.dispose(how).catch(() => undefined);
      await Promise.allSettled([...settling]);
    },
    inCall: () => [account.identities, ...lingering.keys()].some((identities) => identities.liveCalls().length > 0),
    registered: () => account.wantRegistered && !options.stopped(),
    stopped: options.stopped,
    onEvent: (event) => {
      if (event.type === 'unreachable') return;
      const message = event.type === 'failover' ? `${config.id}: ${formatEndpoint(event.from)} did not answer (${event.reason}); now ${formatEndpoint(event.to)}` : `${config.id}: back to ${formatEndpoint(event.to)}`;
      options.emit({ type: 'error', code: event.type === 'failover' ? 'SERVER_FAILOVER' : 'SERVER_FAILBACK', message });
    },
  });
}

/**
 * Seed 003: the account gets new identities at `target`; the old ones are returned for the caller to give up — dropped
 * unheard at a server that failed (their bindings stay in the journal, and are erased should the account come back),
 * unregistered at one that still answers (failback), so no binding of the account stays behind at it.
 */
function moveAccount(account: AccountRuntime, target: Endpoint, options: AccountFailoverOptions): AccountIdentities {
  // A phone that shut down, or an account closed, moves nowhere: identities made now would register after it, and
  // nothing would dispose them.
  if (options.stopped() || !account.wantRegistered) throw new PhoneError('INVALID_STATE', `${account.config.id}: the phone is shut down or the account closed`);
  const old = account.identities;
  account.server = target;
  account.identities = options.identitiesFor(account);
  return old;
}

/**
 * Does this server answer OPTIONS? A throwaway identity asks (the account's own identities stay where they are), and
 * checks the server as the account does (its TLS settings: without them a TLS account never saw its primary again).
 * It sends from the host's address, so an account on one-time addresses asks as nobody (RFC 3323 §4.1.1.3's anonymous
 * From): a probe naming the address-of-record would tie it to the host (SPEC B).
 */
export async function probeServer(account: AccountRuntime, target: Endpoint, options: Pick<AccountFailoverOptions, 'media' | 'sockets' | 'mediaPortRange' | 'timers'>): Promise<number | undefined> {
  const config = account.config;
  const tls = isSecureTransport(config.transport) ? accountTlsSettings(config, target) : undefined;
  const identity = await SipIdentity.create({
    aor: config.address?.mode === 'temporary' ? anonymousAor : { user: config.user, domain: account.domain },
    transport: config.transport,
    ...(tls ? { tls } : {}),
    local: { address: config.localAddress ?? (await options.sockets.sourceAddressFor(target.address, target.port)), port: 0 },
    server: target,
    sessionDescriptionHandlerFactory: throwawayMedia(options.media, options.mediaPortRange, config.id),
    ...(options.timers ? { timers: options.timers } : {}),
    sockets: options.sockets,
  });
  try {
    return await identity.ping(account.config.keepalive?.timeoutMs ?? 2000);
  } finally {
    await identity.dispose({ serverGone: true });
  }
}
