import type { AccountIdentities, LeftBinding } from './account-identities.js';
import { accountTlsSettings } from './account-tls.js';
import { PhoneError } from '../api/phone-error.js';
import { anonymousFrom } from '../privacy/anonymity.js';
import { SipIdentity } from '../sip/sip-identity.js';
import { formatEndpoint, isSecureTransport, type Endpoint } from '../sip/transport/endpoint.js';
import type { SipSockets } from '../sip/transport/sip-sockets.js';
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import { throwawayMedia, type MediaFactoryProvider } from './media-factory.js';
import type { FailedStep } from './failure-tally.js';
import type { AccountRuntime } from './phone-accounts.js';
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
  // What identities left at each server they failed over from, erased once the account registers there again
  const leftAt = new Map<string, Promise<LeftBinding[]>>();
  const eraseLeftAtCurrent = (): void => {
    const key = formatEndpoint(account.server);
    const left = leftAt.get(key);
    if (!left) return;
    leftAt.delete(key);
    const identities = account.identities;
    void left.then((bindings) => identities.eraseLeftBindings(bindings)).catch(options.failed('erasing the registrations left at a server the account came back to'));
  };
  return new ServerFailover({
    servers,
    ...(config.keepalive ? { keepalive: config.keepalive } : {}),
    ...(config.keepalive?.primaryRetryMs !== undefined ? { primaryRetryMs: config.keepalive.primaryRetryMs } : {}),
    pingCurrent: async () => account.identities.registeredIdentity?.ping(config.keepalive?.timeoutMs ?? 2000),
    probe: (target) => probeServer(account, target, options),
    moveTo: async (target, left) => {
      const from = formatEndpoint(account.server);
      const leftBehind = await moveAccount(account, target, left, options);
      if (leftBehind) leftAt.set(from, Promise.all([leftAt.get(from) ?? [], leftBehind]).then(([before, now]) => [...before, ...now]));
    },
    registerCurrent: async () => {
      await account.identities.register();
      eraseLeftAtCurrent();
    },
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
 * Seed 003 failover/failback: the account's identities move to another server. Those left at a server that failed are
 * dropped unheard (their bindings stay in the journal for the next start); those left at a backup that still answers
 * (failback) unregister there, so no binding of the account — a one-time address above all — stays behind at it.
 */
async function moveAccount(account: AccountRuntime, target: Endpoint, left: 'failed' | 'answering', options: AccountFailoverOptions): Promise<Promise<LeftBinding[]> | undefined> {
  if (account.server.address === target.address && account.server.port === target.port) return undefined;
  // A phone that shut down moves nowhere: identities made now would register after it, and nothing would dispose them.
  if (options.stopped()) throw new PhoneError('INVALID_STATE', `${account.config.id}: the phone is shut down`);
  const old = account.identities;
  account.server = target;
  account.identities = options.identitiesFor(account);
  const disposed = old.dispose({ serverGone: left === 'failed' });
  if (left === 'failed') return disposed.catch(() => []);
  void disposed.catch(options.failed("closing an account's identities"));
  return undefined;
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
