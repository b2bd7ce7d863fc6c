import {
  Inviter,
  Registerer,
  RegistererState,
  UserAgent,
  type Invitation,
  type SessionDescriptionHandlerFactory,
  type UserAgentOptions,
} from 'sip.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { RegistrationState } from '../api/phone-types.js';
import { randomToken, uriHost } from './message/index.js';
import { SipCall, uriUser, type SipRemoteParty } from './sip-call.js';
import { assertSipJsPatched } from './sipjs-patches.js';
import { formatEndpoint, type Endpoint, type SipTransportKind } from './transport/endpoint.js';
import { RejectCounter, type SipTap } from './transport/message-tap.js';
import { openFlow } from './transport/sip-flow.js';
import { TlsError, type TlsErrorCode } from './transport/tls-error.js';
import type { TlsClientSettings, TlsSessionInfo } from './transport/tls-trust.js';
import type { SipSockets } from './transport/sip-sockets.js';
import { SipJsTransport, type SipJsTransportOptions } from './transport/sipjs-transport.js';
import { phoneUasPolicy } from './transport/uas-screen.js';
import { defaultSipTimers, type SipTimerValues } from './transport/udp-retransmitter.js';

export interface SipIdentityOptions {
  /** Address-of-record: `sip:user@domain`. */
  aor: { user: string; domain: string };
  displayName?: string;
  auth?: { username: string; password: string };
  transport: SipTransportKind;
  /** TLS and WSS: how the server's certificate is checked (required for them; RFC 5922 §7). */
  tls?: TlsClientSettings;
  /** Where our socket binds; port 0 lets the OS choose (a leased port otherwise). */
  local: Endpoint;
  /**
   * Address written into Via and Contact when it differs from the bound one (the signaling-only temporary
   * address mode). Defaults to the bound address.
   */
  advertisedAddress?: string;
  /** Registrar and outbound proxy. */
  server: Endpoint;
  registerExpires?: number;
  userAgentString?: string;
  sessionDescriptionHandlerFactory: SessionDescriptionHandlerFactory;
  tap?: SipTap;
  timers?: SipTimerValues;
  /** Extra Contact parameters for REGISTER (e.g. the NAT public address). */
  extraContactParams?: string[];
  /** Extra headers on every REGISTER. */
  registerHeaders?: string[];
  /**
   * Sources whose requests outside a dialog are taken (the account's registrar and proxies; names are resolved once
   * here); others get 403 (issue 17 item 5). Absent: anyone may call this identity directly.
   */
  acceptFrom?: readonly Endpoint[];
  onIncomingCall?: (call: SipCall) => void;
  /** Where its socket comes from: the OS's by default, an in-memory network in unit tests. */
  sockets?: SipSockets;
  /** Called once the identity is disposed (its socket is closed): a leased SIP port can go back to the pool. */
  onDisposed?: () => void;
  onRegistrationChange?: (state: RegistrationState, detail: { status?: number; reason?: string }) => void;
}

export class SipIdentityError extends Error {
  override readonly name = 'SipIdentityError';
  constructor(
    readonly code: 'REGISTER_FAILED' | 'TRANSPORT_FAILED' | 'TLS_FAILED' | 'DISPOSED',
    message: string,
    readonly status?: number,
    /** TLS_FAILED: why the server was not trusted or the handshake failed. */
    readonly tls?: TlsErrorCode,
  ) {
    super(message);
  }
}

/**
 * One SIP identity: a sip.js UserAgent with its own transport bound to one local address and port, its own
 * Contact and registration (ARCHITECTURE.md: a sip.js UserAgent has one Via host and one Contact, so every
 * identity — a per-call temporary address, or the long-lived receiving one — is its own UserAgent).
 */
export class SipIdentity {
  registrationState: RegistrationState = 'unregistered';
  lastRegisterStatus?: number;
  private registerer?: Registerer;
  private disposed = false;
  readonly calls = new Set<SipCall>();

  private constructor(
    readonly options: SipIdentityOptions,
    readonly userAgent: UserAgent,
    private readonly transport: SipJsTransport,
    readonly local: Endpoint,
    /** Messages this identity threw away, by reason. */
    readonly rejects: RejectCounter,
  ) {}

  static async create(options: SipIdentityOptions): Promise<SipIdentity> {
    assertSipJsPatched();
    let flow;
    const flowOptions = { incompleteMessageMs: 64 * (options.timers ?? defaultSipTimers).t1, ...(options.tls ? { tls: options.tls } : {}) };
    try {
      flow = await openFlow(options.transport, options.local, options.server, options.sockets, flowOptions);
    } catch (error) {
      // never retried in the clear: the identity fails with the TLS reason (issue 18)
      if (error instanceof TlsError) throw new SipIdentityError('TLS_FAILED', `cannot open ${options.transport} to ${formatEndpoint(options.server)}: ${error.message}`, undefined, error.code);
      throw new SipIdentityError('TRANSPORT_FAILED', `cannot open ${options.transport} from ${formatEndpoint(options.local)} to ${formatEndpoint(options.server)}: ${(error as Error).message}`);
    }
    const local = flow.local;
    const advertised = options.advertisedAddress ?? local.address;
    const rejects = new RejectCounter();
    const acceptFrom = options.acceptFrom ? await resolveEndpoints(options.acceptFrom) : undefined;
    const created: { agent?: UserAgent } = {};
    const transportOptions: SipJsTransportOptions = {
      // The option tags sip.js advertises are the ones a Require may name (RFC 3261 §8.2.2.3).
      uas: { ...phoneUasPolicy, supported: () => created.agent?.userAgentCore.configuration.supportedOptionTagsResponse ?? [] },
      flow,
      server: options.server,
      reopen: () => openFlow(options.transport, local, options.server, options.sockets, flowOptions),
      ...(options.advertisedAddress !== undefined ? { advertisedAddress: options.advertisedAddress } : {}),
      rejects,
      ...(acceptFrom ? { outOfDialogFrom: acceptFrom } : {}),
      ...(options.tap ? { tap: options.tap } : {}),
      ...(options.timers ? { timers: options.timers } : {}),
    };
    const uaOptions: UserAgentOptions = {
      uri: UserAgent.makeURI(`sip:${options.aor.user}@${options.aor.domain}`),
      viaHost: uriHost(advertised),
      forceRport: options.transport === 'udp', // RFC 3581: let the server answer where we really are
      // RFC 7118 §5.2: a Contact reached over WSS says transport=ws (the Via says WSS)
      contactParams: { transport: options.transport === 'wss' ? 'ws' : options.transport },
      userAgentString: options.userAgentString ?? 'Veilphone',
      sessionDescriptionHandlerFactory: options.sessionDescriptionHandlerFactory,
      transportConstructor: SipJsTransport,
      transportOptions,
      logBuiltinEnabled: false,
      logLevel: 'error',
      reconnectionAttempts: options.transport === 'udp' ? 0 : 3,
      reconnectionDelay: 1,
      sendInitialProvisionalResponse: false, // the phone sends 180 itself when it rings (an auto-reject never rings)
      noAnswerTimeout: 120,
    };
    if (options.displayName !== undefined) uaOptions.displayName = options.displayName;
    if (options.auth) {
      uaOptions.authorizationUsername = options.auth.username;
      uaOptions.authorizationPassword = options.auth.password;
    }
    const userAgent = new UserAgent(uaOptions);
    created.agent = userAgent;
    // sip.js writes the Contact without a port; ours must name the port we really listen on (RFC 3261 §8.1.1.8).
    userAgent.contact.uri.port = local.port;
    const identity = new SipIdentity(options, userAgent, userAgent.transport as SipJsTransport, local, rejects);
    userAgent.delegate = { onInvite: (invitation) => identity.onInvite(invitation) };
    await userAgent.start();
    return identity;
  }

  /** The address this identity writes into Via, Contact and SDP (its one-time address, even when signalling-only). */
  get advertisedAddress(): string {
    return this.options.advertisedAddress ?? this.local.address;
  }

  /** The TLS session to the server, on a TLS or WSS identity. */
  get tls(): TlsSessionInfo | undefined {
    return this.transport.tls;
  }

  /** The Contact URI the registrar will hold. */
  get contactUri(): string {
    return this.userAgent.contact.uri.toString();
  }

  get retransmissions(): number {
    return this.transport.retransmissions;
  }

  /** REGISTER and wait for the final answer; refreshes happen before expiry by themselves (RFC 3261 §10.2.4). */
  async register(): Promise<number> {
    this.assertAlive();
    if (!this.registerer) {
      const registrar = UserAgent.makeURI(`sip:${this.options.aor.domain}`);
      this.registerer = new Registerer(this.userAgent, {
        expires: this.options.registerExpires ?? 600,
        ...(registrar ? { registrar } : {}),
        ...(this.options.extraContactParams ? { extraContactHeaderParams: this.options.extraContactParams } : {}),
        ...(this.options.registerHeaders ? { extraHeaders: this.options.registerHeaders } : {}),
      });
      this.registerer.stateChange.addListener((state) => {
        if (state === RegistererState.Registered) this.setRegistration('registered', {});
        else if (state === RegistererState.Unregistered && this.registrationState === 'registered') this.setRegistration('unregistered', {});
      });
    }
    this.setRegistration('registering', {});
    const status = await new Promise<number>((resolve, reject) => {
      this.registerer!.register({
        requestDelegate: {
          onAccept: (response) => resolve(response.message.statusCode ?? 0),
          onReject: (response) => resolve(response.message.statusCode ?? 0),
        },
      }).catch(reject);
    }).catch((error: Error) => {
      this.setRegistration('failed', { reason: error.message });
      throw new SipIdentityError('REGISTER_FAILED', `REGISTER failed: ${error.message}`);
    });
    this.lastRegisterStatus = status;
    if (status >= 300) {
      this.setRegistration('failed', { status });
      throw new SipIdentityError('REGISTER_FAILED', `REGISTER was answered ${status}`, status);
    }
    this.setRegistration('registered', { status });
    return status;
  }

  /** REGISTER with Expires: 0 for our Contact (RFC 3261 §10.2.2) and wait for the answer. */
  async unregister(): Promise<number | undefined> {
    if (!this.registerer || this.registrationState === 'unregistered') return undefined;
    this.setRegistration('unregistering', {});
    const status = await new Promise<number>((resolve, reject) => {
      this.registerer!.unregister({
        requestDelegate: {
          onAccept: (response) => resolve(response.message.statusCode ?? 0),
          onReject: (response) => resolve(response.message.statusCode ?? 0),
        },
      }).catch(reject);
    }).catch(() => undefined);
    this.setRegistration('unregistered', status === undefined ? {} : { status });
    return status;
  }

  /**
   * RFC 3261 §10.2.2: remove a binding an earlier run left at the registrar (it crashed before unregistering): a
   * REGISTER for that Contact with expires 0, sent from this identity. Use a throwaway identity: its Contact is
   * rewritten to the stale one.
   */
  async removeBinding(contact: string): Promise<number | undefined> {
    this.assertAlive();
    const stale = UserAgent.makeURI(contact);
    if (!stale) throw new SipIdentityError('REGISTER_FAILED', `"${contact}" is not a SIP URI`);
    const own = this.userAgent.contact.uri;
    own.user = stale.user;
    own.host = stale.host;
    own.port = stale.port;
    const registerer = new Registerer(this.userAgent, { expires: 600, ...(this.options.registerHeaders ? { extraHeaders: this.options.registerHeaders } : {}) });
    return new Promise<number | undefined>((resolve) => {
      registerer
        .unregister({
          requestDelegate: {
            onAccept: (response) => resolve(response.message.statusCode),
            onReject: (response) => resolve(response.message.statusCode),
          },
        })
        .catch(() => resolve(undefined));
    });
  }

  /** Create an outgoing call to `target` (a SIP URI). Call `invite()` on it to send the INVITE. */
  createCall(target: string, options: { extraHeaders?: string[]; fromUri?: string; fromDisplayName?: string } = {}): SipCall {
    this.assertAlive();
    const uri = UserAgent.makeURI(target);
    if (!uri) throw new SipIdentityError('TRANSPORT_FAILED', `invalid target URI "${target}"`);
    // A Call-ID of its own for every call, from the CSPRNG: sip.js would start it with its UserAgent's five-character
    // id, the same in every request of this identity, so a callee could link an anonymous call to an identified one
    // (RFC 3323 §4.1; RFC 3261 §8.1.1.4 asks only for global uniqueness).
    const params: Record<string, string> = { callId: randomToken(24) };
    if (options.fromUri !== undefined) params.fromUri = options.fromUri;
    if (options.fromDisplayName !== undefined) params.fromDisplayName = options.fromDisplayName;
    const inviter = new Inviter(this.userAgent, uri, {
      ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
      params,
    });
    const remote: SipRemoteParty = { uri: target };
    const user = uriUser(target);
    if (user !== undefined) remote.user = user;
    return this.track(SipCall.outgoing(inviter, remote));
  }

  /**
   * Unregister when registered, end every call, stop the UserAgent and close the socket. `serverGone`: the server is
   * known to be unreachable (a soft switch failed over), so nothing is sent to it and nothing waits for its answer.
   */
  async dispose(options: { serverGone?: boolean } = {}): Promise<void> {
    if (this.disposed) return;
    // A callee's BYE must wait for the ACK of its 200 (RFC 3261 §15), which sip.js does for up to 64·T1; a
    // shutdown gives the ACK a short grace and then goes on, so the unregistration is never held up for 32 s.
    const grace = options.serverGone ? 0 : 8 * (this.options.timers?.t1 ?? defaultSipTimers.t1);
    await Promise.race([Promise.allSettled([...this.calls].map((call) => call.hangup())), delay(grace)]);
    if (!options.serverGone) await this.unregister().catch(() => undefined);
    this.disposed = true;
    await this.userAgent.stop().catch(() => undefined);
    await this.transport.dispose().catch(() => undefined);
    for (const call of this.calls) call.abandon();
    this.options.onDisposed?.();
  }

  /**
   * OPTIONS to the server (RFC 3261 §11) as a keep-alive and health check: resolves with its status, or undefined when
   * nothing came back within `timeoutMs` (the transaction may still run its own timers to the end).
   */
  async ping(timeoutMs: number): Promise<number | undefined> {
    this.assertAlive();
    const { address, port } = this.options.server;
    const target = UserAgent.makeURI(`sip:${address.includes(':') ? `[${address}]` : address}:${port}`);
    if (!target) return undefined;
    const core = this.userAgent.userAgentCore;
    const message = core.makeOutgoingRequestMessage('OPTIONS', target, this.userAgent.configuration.uri, target, {});
    return new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      const done = (status: number | undefined): void => {
        clearTimeout(timer);
        resolve(status);
      };
      try {
        core.request(message, { onAccept: (r) => done(r.message.statusCode), onReject: (r) => done(r.message.statusCode === 408 ? undefined : r.message.statusCode) });
      } catch {
        done(undefined);
      }
    });
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private onInvite(invitation: Invitation): void {
    const call = this.track(SipCall.incoming(invitation));
    if (this.options.onIncomingCall) this.options.onIncomingCall(call);
    else void call.reject(480).catch(() => undefined);
  }

  private track(call: SipCall): SipCall {
    this.calls.add(call);
    void call.whenEnded().then(() => this.calls.delete(call));
    return call;
  }

  private setRegistration(state: RegistrationState, detail: { status?: number; reason?: string }): void {
    if (state === this.registrationState && detail.status === undefined) return;
    this.registrationState = state;
    this.options.onRegistrationChange?.(state, detail);
  }

  private assertAlive(): void {
    if (this.disposed) throw new SipIdentityError('DISPOSED', 'this identity has been disposed');
  }
}

/** Every address a server's name stands for (an address stays itself): requests arrive from addresses, not names. */
async function resolveEndpoints(endpoints: readonly Endpoint[]): Promise<Endpoint[]> {
  const resolved = await Promise.all(
    endpoints.map(async (endpoint) => {
      if (isIP(endpoint.address) !== 0) return [endpoint];
      const addresses = await lookup(endpoint.address, { all: true }).catch(() => []);
      return addresses.map((a) => ({ address: a.address, port: endpoint.port }));
    }),
  );
  return resolved.flat();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
