import type { RegistrationRetry } from './registration-retry.js';
import { PhoneError } from '../api/phone-error.js';
import { maskedPassword, type AccountConfig, type AddressStatus, type RegistrationSnapshot } from '../api/phone-types.js';
import type { TemporaryAddressManager } from '../address/temporary-address-manager.js';
import { bareHost, parseSipUri, SipParseError, uriDomain, uriTransport } from '../sip/message/index.js';
import { defaultPort, type Endpoint, type SipTransportKind } from '../sip/transport/endpoint.js';
import { checkKeepalive, checkMediaTimeout, checkSessionExpires } from './account-config-check.js';
import type { AccountIdentities } from './account-identities.js';
import type { FailedStep } from './failure-tally.js';
import type { ServerFailover } from './server-failover.js';
import { TraceRouter } from './trace-router.js';

/** One account as the phone runs it: its configuration, server, identities and registration. */
export interface AccountRuntime {
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
  /** Registers again after a failure while the user wants it (accounts without failover). */
  retry?: RegistrationRetry;
  /** The server refused the last REGISTER with a Retry-After: no REGISTER of the phone's own before then (ms). */
  registerNotBefore?: number;
}

/** The account whose address-of-record is `aor` (`user@domain`), the one its identities and journal write. */
export function accountOfAor(accounts: readonly AccountRuntime[], aor: string): AccountRuntime | undefined {
  return accounts.find((a) => `${a.config.user}@${a.domain}` === aor);
}

/** The credentials of the account whose address-of-record is `aor` (`user@domain`), when it has a password. */
export function accountCredentials(accounts: readonly AccountRuntime[], aor: string): { username: string; password: string } | undefined {
  const config = accountOfAor(accounts, aor)?.config;
  return config?.password !== undefined ? { username: config.authUser ?? config.user, password: config.password } : undefined;
}

/** `sip:host:port;transport=…` as the endpoint an account's socket talks to. */
export function serverEndpoint(config: AccountConfig, server: string): Endpoint {
  try {
    const uri = parseSipUri(server);
    const transport = uri.scheme === 'sips' && config.transport === 'tls' ? 'tls' : (uriTransport(uri) ?? config.transport);
    return { address: bareHost(uri.host), port: uri.port ?? defaultPort(transport as SipTransportKind) };
  } catch (error) {
    throw new PhoneError('INVALID_ARGUMENT', `account ${config.id}: bad server "${server}": ${(error as Error).message}`);
  }
}

/**
 * The domain of the account's address-of-record as URIs write it (RFC 3261 §25.1: an IPv6 address in brackets): the
 * configured one, else the server's host and port. A domain that is no valid host is refused.
 */
export function accountDomain(config: AccountConfig): string {
  const text = config.domain ?? `${config.server.replace(/^sips?:/i, '').split(';')[0]}`;
  try {
    return uriDomain(text);
  } catch (error) {
    if (error instanceof SipParseError) throw new PhoneError('INVALID_ARGUMENT', `account ${config.id}: bad domain "${text}": ${error.message}`);
    throw error;
  }
}

/**
 * An account's runtime before its identities exist: its servers (the first is the one it uses) and domain. The caller
 * gives it identities, and a failover when there is more than one server or keep-alives.
 */
export function newAccountRuntime(config: AccountConfig): { account: Omit<AccountRuntime, 'identities'>; servers: Endpoint[] } {
  if (config.keepalive) checkKeepalive(config.keepalive);
  if (config.mediaTimeout) checkMediaTimeout(config.mediaTimeout);
  if (config.sessionExpires !== undefined) checkSessionExpires(config.sessionExpires);
  const servers = [config.server, ...(config.backupServers ?? [])].map((uri) => serverEndpoint(config, uri));
  const server = servers[0]!;
  const domain = accountDomain(config);
  return {
    account: {
      config,
      server,
      servers,
      domain,
      registration: { accountId: config.id, state: 'unregistered' },
      router: new TraceRouter(),
      wantRegistered: false,
    },
    servers,
  };
}

/** A configuration as a UI may see it: the password masked. */
export function masked(config: AccountConfig): AccountConfig {
  return { ...config, ...(config.password ? { password: maskedPassword } : {}) };
}

/** The phone's accounts, in the order the user sees them (the first is the default). */
export class PhoneAccounts {
  private readonly byId = new Map<string, AccountRuntime>();

  constructor(private readonly failed: FailedStep) {}

  has(accountId: string): boolean {
    return this.byId.has(accountId);
  }

  find(accountId: string): AccountRuntime | undefined {
    return this.byId.get(accountId);
  }

  /** The account of that id, or the first when none is named. */
  get(accountId: string | undefined): AccountRuntime {
    const account = accountId === undefined ? this.byId.values().next().value : this.byId.get(accountId);
    if (!account) throw new PhoneError('UNKNOWN_ACCOUNT', accountId === undefined ? 'no account is configured' : `no account "${accountId}"`);
    return account;
  }

  add(account: AccountRuntime): void {
    if (this.byId.has(account.config.id)) throw new PhoneError('INVALID_ARGUMENT', `account ${account.config.id} already exists`);
    this.byId.set(account.config.id, account);
  }

  all(): AccountRuntime[] {
    return [...this.byId.values()];
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** Unregister an account and release all it holds; it is gone from the phone afterwards. */
  async retire(account: AccountRuntime): Promise<void> {
    this.byId.delete(account.config.id);
    account.wantRegistered = false;
    account.retry?.stop();
    account.failover?.stop();
    await account.identities.dispose().catch(this.failed("closing an account's identities"));
    await account.failover?.close(); // a failback under way, identities being given up at the server left
    // a manager that could not be made has nothing to close (its error went to the call or registration that needed it)
    if (account.addresses) await (await account.addresses.catch(() => undefined))?.close();
  }

  /**
   * Close every account and open it again from its configuration (`add` builds it), in the same order: a move onto
   * another lease. The ids of the accounts that were meant to be registered.
   */
  async reopenAll(add: (config: AccountConfig) => void): Promise<string[]> {
    const order = this.ids();
    const wanted = new Set(this.all().filter((a) => a.wantRegistered).map((a) => a.config.id));
    for (const account of this.all()) {
      await this.retire(account);
      add(account.config);
    }
    this.reorder(order);
    return [...wanted];
  }

  /** Put the accounts back in `order` (a re-created account is added last). */
  reorder(order: string[]): void {
    const entries = [...this.byId.entries()].sort(([a], [b]) => rank(order, a) - rank(order, b));
    this.byId.clear();
    for (const [id, account] of entries) this.byId.set(id, account);
  }
}

/** What the status bar says about an account's one-time addresses. */
export async function addressStatus(account: AccountRuntime): Promise<AddressStatus> {
  const problem = account.addressProblem !== undefined ? { problem: account.addressProblem } : {};
  if (account.config.address?.mode !== 'temporary') return { accountId: account.config.id, mode: 'fixed', active: [], ...problem };
  const manager = account.addresses ? await account.addresses.catch(() => undefined) : undefined; // its error is addressProblem
  if (!manager) return { accountId: account.config.id, mode: 'temporary', source: account.config.address.source, active: [], ...problem };
  const status = manager.status();
  const left = status.leftOnInterface.length > 0 ? { leftOnInterface: status.leftOnInterface } : {};
  return { accountId: account.config.id, mode: 'temporary', applier: status.mode, reason: status.reason, source: status.source, active: status.active, ...left, ...problem };
}

function rank(order: string[], id: string): number {
  const index = order.indexOf(id);
  return index === -1 ? order.length : index;
}
