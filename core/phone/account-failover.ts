import type { AccountIdentities } from './account-identities.js';
import { PhoneError } from '../api/phone-error.js';
import { SipIdentity } from '../sip/sip-identity.js';
import { formatEndpoint, type Endpoint } from '../sip/transport/endpoint.js';
import type { SipSockets } from '../sip/transport/sip-sockets.js';
import type { SipTimerValues } from '../sip/transport/udp-retransmitter.js';
import { throwawayMedia, type MediaFactoryProvider } from './media-factory.js';
import type { AccountRuntime } from './phone-accounts.js';
import type { EmitPhoneEvent } from './phone-events.js';
import { ServerFailover } from './server-failover.js';

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
}

/**
 * Seed 003 failover and failback for one account: a ServerFailover when the account has a backup server or
 * keep-alives (undefined otherwise), which moves the account's identities between its servers.
 */
export function accountFailover(account: AccountRuntime, options: AccountFailoverOptions): ServerFailover | undefined {
  const { servers } = options;
  const config = account.config;
  if (!(servers.length > 1 || config.keepalive)) return undefined;
  return new ServerFailover({
    servers,
    ...(config.keepalive ? { keepalive: config.keepalive } : {}),
    pingCurrent: async () => account.identities.registeredIdentity?.ping(config.keepalive?.timeoutMs ?? 2000),
    probe: (target) => probeServer(account, target, options),
    moveTo: async (target) => moveAccount(account, target, options),
    registerCurrent: () => account.identities.register(),
    registered: () => account.wantRegistered && !options.stopped(),
    stopped: options.stopped,
    onEvent: (event) => {
      if (event.type === 'unreachable') return;
      const message = event.type === 'failover' ? `${config.id}: ${formatEndpoint(event.from)} did not answer (${event.reason}); now ${formatEndpoint(event.to)}` : `${config.id}: back to ${formatEndpoint(event.to)}`;
      options.emit({ type: 'error', code: event.type === 'failover' ? 'SERVER_FAILOVER' : 'SERVER_FAILBACK', message });
    },
  });
}

/** Seed 003 failover/failback: the account's identities move to another server; the old ones are dropped unheard. */
async function moveAccount(account: AccountRuntime, target: Endpoint, options: AccountFailoverOptions): Promise<void> {
  if (account.server.address === target.address && account.server.port === target.port) return;
  // A phone that shut down moves nowhere: identities made now would register after it, and nothing would dispose them.
  if (options.stopped()) throw new PhoneError('INVALID_STATE', `${account.config.id}: the phone is shut down`);
  const old = account.identities;
  account.server = target;
  account.identities = options.identitiesFor(account);
  void old.dispose({ serverGone: true });
}

/** Does this server answer OPTIONS? A throwaway identity asks (the account's own identities stay where they are). */
async function probeServer(account: AccountRuntime, target: Endpoint, options: AccountFailoverOptions): Promise<number | undefined> {
  const identity = await SipIdentity.create({
    aor: { user: account.config.user, domain: account.domain },
    transport: account.config.transport,
    local: { address: account.config.localAddress ?? (await options.sockets.sourceAddressFor(target.address, target.port)), port: 0 },
    server: target,
    sessionDescriptionHandlerFactory: throwawayMedia(options.media, options.mediaPortRange, account.config.id),
    ...(options.timers ? { timers: options.timers } : {}),
    sockets: options.sockets,
  });
  try {
    return await identity.ping(account.config.keepalive?.timeoutMs ?? 2000);
  } finally {
    await identity.dispose({ serverGone: true });
  }
}
