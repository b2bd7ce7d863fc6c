import {
  Inviter,
  Registerer,
  RegistererState,
  SIPExtension,
  UserAgent,
  type Invitation,
  type SessionDescriptionHandlerFactory,
  type URI,
  type UserAgentOptions,
} from 'sip.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { RegistrationCause, RegistrationState } from '../api/phone-types.js';
import { quotedContent, randomToken, uriHost } from './message/index.js';
import { registrationCause, registrationFailureText } from './registration-cause.js';
import { retryAfterSeconds } from './message/retry-after.js';
import { SipCall, uriUser, type Retry, type SipRemoteParty } from './sip-call.js';
import { askedSessionInterval, defaultMinSessionExpires, isSessionTimerHeader, sessionTimerRequestHeaders } from './session-timer.js';
import { installSipJsMessageParser } from './sipjs-message-parser.js';
import { assertSipJsPatched } from './sipjs-patches.js';
import { sipStackGuard } from './sip-stack-guard.js';
import { outboundProxyRoute } from './outbound-route.js';
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
  /** sip.js failed inside one of this identity's calls (caught, counted under SIPJS_FAULT); the call is being ended. */
  onCallFault?: (call: SipCall, reason: string) => void;
  /** Called once the identity is disposed (its socket is closed): a leased SIP port can go back to the pool. */
  onDisposed?: () => void;
  onRegistrationChange?: (state: RegistrationState, detail: RegistrationDetail) => void;
  /**
   * TCP: RFC 5626 §4.4.1 CRLF keep-alives on the flow to the server. Every `intervalMs` (default: the registrar's
   * Flow-Timer, else 80-100 % of 120 s), a pong expected within `pongTimeoutMs` (default 10 s).
   */
  keepAlive?: { intervalMs?: number; pongTimeoutMs?: number };
}

/** What a registration change carries besides its state (RegistrationSnapshot's status, reason and cause). */
export interface RegistrationDetail {
  status?: number;
  reason?: string;
  cause?: RegistrationCause;
  /** With `failed`: the Retry-After of the server's refusal, in ms (not for the snapshot: the retry's time is). */
  retryAfterMs?: number;
}

/**
 * What sip.js's Registerer has but types as private: whether a REGISTER waits for its answer, and when that ends; and
 * the REGISTER it is sending (its Contact carries the expiry asked for).
 */
interface RegistererWaiting {
  readonly waiting: boolean;
  readonly waitingChange: { addListener(listener: (waiting: boolean) => void, options?: { once: boolean }): void };
  readonly request: { extraHeaders?: string[] };
}

export class SipIdentityError extends Error {
  override readonly name = 'SipIdentityError';
  constructor(
    readonly code: 'REGISTER_FAILED' | 'TRANSPORT_FAILED' | 'TLS_FAILED' | 'DISPOSED',
    message: string,
    readonly status?: number,
    /** REGISTER_FAILED: why, in terms a user can act on. */
    readonly registrationCause?: RegistrationCause,
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
  /** Ended calls whose BYE we sent and is not yet answered. */
  private readonly byesInFlight = new Set<Promise<void>>();
  private disposing: Promise<void> | undefined;
  /** How to fail each `register()` still waiting for its answer, should the stack stop first. */
  private readonly registersInFlight = new Set<(why: string) => void>();
  /** An unregistration stopped waiting for the registrar's answer (unregister's signal): the registrar is silent. */
  private unregistrationAbandoned = false;
  private registerSent = false;
  /** The registrar itself refused our last REGISTER (a final answer ≥ 300 it sent, not one sip.js made up). */
  private registerRefused = false;
  /** The server dropped our connection while we were registered: once one is open again, register over it. */
  private flowLostWhileRegistered = false;
  /** The latest the registrar may hold our binding (ms since the epoch), from what was asked for and granted. */
  bindingMayLastUntil?: number;
  private readonly bindingLifetimeListeners = new Set<(until: number) => void>();

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
    installSipJsMessageParser(); // sip.js's grammar only for values outside the plain shapes (issue 23)
    let flow;
    const rejects = new RejectCounter();
    // A connection to the Contact's listener refused or timed out is counted as CONTACT_<code> (contact-flow.ts).
    const acceptFrom = options.acceptFrom ? await resolveEndpoints(options.acceptFrom) : undefined;
    const serverEndpoints = await resolveEndpoints([options.server]);
    const flowOptions = {
      incompleteMessageMs: 64 * (options.timers ?? defaultSipTimers).t1,
      onRefused: (code: string) => rejects.count(`CONTACT_${code}`),
      // the Contact keeps room for the servers by address (a server named by a host name too)
      serverAddresses: [...serverEndpoints, ...(acceptFrom ?? [])].map((e) => e.address),
      ...(options.tls ? { tls: options.tls } : {}),
    };
    try {
      flow = await openFlow(options.transport, options.local, options.server, options.sockets, flowOptions);
    } catch (error) {
      // never retried in the clear: the identity fails with the TLS reason (issue 18)
      if (error instanceof TlsError) throw new SipIdentityError('TLS_FAILED', `cannot open ${options.transport} to ${formatEndpoint(options.server)}: ${error.message}`, undefined, undefined, error.code);
      throw new SipIdentityError('TRANSPORT_FAILED', `cannot open ${options.transport} from ${formatEndpoint(options.local)} to ${formatEndpoint(options.server)}: ${(error as Error).message}`);
    }
    const local = flow.local;
    const advertised = options.advertisedAddress ?? local.address;
    // The pre-loaded Route names the proxy by the address we reach it at: a proxy knows its own address and ports
    // (RFC 3261 §16.4), not every name that leads to it (the lab resolves no names).
    const routeTo = serverEndpoints.find((e) => isIP(e.address) === isIP(local.address)) ?? options.server;
    const created: { agent?: UserAgent } = {};
    const transportOptions: SipJsTransportOptions = {
      // The option tags sip.js advertises are the ones a Require may name (RFC 3261 §8.2.2.3).
      uas: { ...phoneUasPolicy, supported: () => created.agent?.userAgentCore.configuration.supportedOptionTagsResponse ?? [] },
      flow,
      server: options.server,
      outboundRoute: outboundProxyRoute(routeTo, options.transport),
      reopen: () => openFlow(options.transport, local, options.server, options.sockets, flowOptions),
      ...(options.advertisedAddress !== undefined ? { advertisedAddress: options.advertisedAddress } : {}),
      rejects,
      ...(acceptFrom ? { outOfDialogFrom: acceptFrom } : {}),
      hasDialog: (callId, localTag, remoteTag) => created.agent?.userAgentCore.dialogs.has(callId + localTag + remoteTag) ?? false,
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
      // RFC 3891 §6: an INVITE with Replaces is taken (incoming-admission.ts matches it across the account's calls).
      // RFC 4028 §7.1, §9: session timers a caller, a carrier or a proxy asks for are taken on and refreshed (session-timer.ts)
      sipExtensionExtraSupported: ['replaces', 'timer'],
      sendInitialProvisionalResponse: false, // the phone sends 180 itself when it rings (an auto-reject never rings)
      // RFC 3262: INVITEs say `Supported: 100rel` and reliable 18x are PRACKed (sip.js); a caller's `Require: 100rel` is
      // met by our own reliable 18x (reliable-provisional.ts), and no longer refused 420 (uas-screen.ts reads this tag).
      sipExtension100rel: SIPExtension.Supported,
      noAnswerTimeout: 120,
    };
    if (options.displayName !== undefined) uaOptions.displayName = quotedContent(options.displayName);
    if (options.auth) {
      uaOptions.authorizationUsername = options.auth.username;
      uaOptions.authorizationPassword = options.auth.password;
    }
    const userAgent = new UserAgent(uaOptions);
    created.agent = userAgent;
    // sip.js writes the Contact without a port; ours must name the port we really listen on (RFC 3261 §8.1.1.8).
    userAgent.contact.uri.port = local.port;
    const identity = new SipIdentity(options, userAgent, userAgent.transport as SipJsTransport, local, rejects);
    userAgent.delegate = {
      onInvite: (invitation) => identity.onInvite(invitation),
      // RFC 5626 §4.4.1: the flow failed (a keep-alive unanswered, the server gone) and sip.js opened a new one: the
      // registrar must learn of it, or calls keep going to the dead flow until the next refresh.
      onConnect: () => identity.flowReopened(),
      // the server closed the connection (a restart: with an error or a clean FIN): the binding went with the flow
      // (RFC 5626 §4.2.2); our own closing comes after the user agent stopped, which sip.js does not report
      onDisconnect: () => identity.flowLost(),
    };
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

  /**
   * REGISTER and wait for the final answer; refreshes happen before expiry by themselves (RFC 3261 §10.2.4). Over TCP
   * the Contact carries a reg-id and a +sip.instance (RFC 5626 §4.2.1: the registrar may send to the phone over this
   * very connection), and the flow is kept alive with CRLF pings (§4.4.1). The instance is this identity's own: a
   * one-time identity's registrations cannot be tied together by it (SPEC A; §4.1 would keep one per device).
   */
  async register(): Promise<number> {
    this.assertAlive();
    // a connection the server dropped, and sip.js's own attempts to open it again spent: open it again now
    if (this.options.transport !== 'udp' && !this.userAgent.isConnected()) await this.userAgent.reconnect().catch(() => undefined);
    if (!this.registerer) {
      const registrar = UserAgent.makeURI(`sip:${this.options.aor.domain}`);
      this.registerer = new Registerer(this.userAgent, {
        expires: this.options.registerExpires ?? 600,
        ...(this.options.transport === 'tcp' ? { regId: 1 } : {}),
        ...(registrar ? { registrar } : {}),
        ...(this.options.extraContactParams ? { extraContactHeaderParams: this.options.extraContactParams } : {}),
        ...(this.options.registerHeaders ? { extraHeaders: this.options.registerHeaders } : {}),
      });
      this.registerer.stateChange.addListener((state) => {
        if (state === RegistererState.Registered) this.setRegistration('registered', {});
        else if (state === RegistererState.Unregistered && this.registrationState === 'registered') {
          // sip.js's own refresh refused with a Retry-After (a 503 in maintenance, RFC 3261 §21.5.4): not sooner
          const retryAfter = this.registerer?.retryAfter;
          this.setRegistration('unregistered', retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: Math.min(retryAfter, 4_294_967) * 1000 } : {});
        }
      });
      // Every REGISTER goes through here, sip.js's own refreshes too (RFC 3261 §10.2.4), as it is sent and answered.
      const registerer = this.registerer;
      (registerer as unknown as RegistererWaiting).waitingChange.addListener((waiting) => (waiting ? this.bindingAskedFor(registerer) : this.bindingAnswered(registerer)));
    }
    // A refresh of sip.js's own may still wait for its answer (a server gone away: until Timer F, 32 s); sip.js would
    // refuse this REGISTER meanwhile ("already in progress"), so it goes after that one.
    const registering = this.registerer as unknown as RegistererWaiting;
    if (registering.waiting) {
      let timer: NodeJS.Timeout | undefined;
      // bounded: a stack stopped without answering it would leave this waiting for ever
      await new Promise<void>((resolve) => {
        registering.waitingChange.addListener(() => resolve(), { once: true });
        timer = setTimeout(resolve, 64 * (this.options.timers?.t1 ?? defaultSipTimers.t1));
      });
      clearTimeout(timer);
    }
    this.assertAlive();
    // sip.js's own refresh timer would fire beside this REGISTER and reject "already in progress" unhandled (a user's
    // Register while registered, with a slow server): this one reschedules it on its 2xx
    this.stopRefreshing();
    this.setRegistration('registering', {});
    this.registerSent = true;
    const refusedBefore = this.rejects.byCode.get('SEND_FAILED_TRANSIENT') ?? 0;
    // sip.js answers a timeout or a transport error itself (RFC 3261 §8.1.3.1): such an answer was never received.
    const answer = (message: { statusCode?: number; data?: string; getHeader(name: string): string | undefined }) => {
      const local = typeof message.data !== 'string' || message.data === '';
      // a server that is overloaded or down for maintenance says when to come back (RFC 3261 §21.5.4, §20.33)
      const retryAfter = local ? undefined : retryAfterSeconds(message.getHeader('retry-after'));
      return { status: message.statusCode ?? 0, local, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter * 1000 } : {}) };
    };
    let flowTimer: string | undefined;
    type Answer = { status: number; local: boolean; retryAfterMs?: number; unbound?: boolean };
    const { status, local, retryAfterMs, unbound } = await new Promise<Answer>((resolve, reject) => {
      // A stack stopped with this REGISTER still unanswered drops its transaction without a word (no Timer F, no 408):
      // the identity's end answers it instead, so no caller waits forever.
      const giveUp = (why: string): void => reject(new SipIdentityError('DISPOSED', `REGISTER abandoned: ${why} before the registrar answered`));
      this.registersInFlight.add(giveUp);
      const settle = (outcome: Answer): void => {
        this.registersInFlight.delete(giveUp);
        resolve(outcome);
      };
      this.registerer!.register({
        requestDelegate: {
          onAccept: (response) => {
            flowTimer = response.message.getHeader('flow-timer');
            settle(answer(response.message));
          },
          // (a 2xx here registered nothing: no Contact of ours with an interval, tools/postinstall/sipjs-register-answers.js)
          onReject: (response) => settle({ ...answer(response.message), unbound: (response.message.statusCode ?? 0) < 300 }),
          // sip.js follows no redirection of a REGISTER (it logs one, and calls this): a refusal like any other
          onRedirect: (response) => settle(answer(response.message)),
        },
      }).catch((error: unknown) => {
        this.registersInFlight.delete(giveUp);
        reject(error);
      });
    }).catch((error: Error) => {
      // Abandoned by a shutdown: no registrar said anything, so nothing is reported of it (nor taken for a dead server).
      if (error instanceof SipIdentityError && error.code === 'DISPOSED') throw error;
      this.setRegistration('failed', { reason: error.message, cause: 'unreachable' });
      throw new SipIdentityError('REGISTER_FAILED', `REGISTER failed: ${error.message}`, undefined, 'unreachable');
    });
    this.lastRegisterStatus = status;
    this.registerRefused = status >= 300 && !local;
    if (unbound) {
      this.setRegistration('failed', { status, cause: 'no-binding' });
      throw new SipIdentityError('REGISTER_FAILED', registrationFailureText('no-binding', status), status, 'no-binding');
    }
    if (status >= 300) {
      const sendFailures = (this.rejects.byCode.get('SEND_FAILED_TRANSIENT') ?? 0) - refusedBefore;
      const cause = registrationCause({ status, local, credentials: this.options.auth !== undefined, sendFailures }) ?? 'rejected';
      this.setRegistration('failed', { status, cause, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
      throw new SipIdentityError('REGISTER_FAILED', registrationFailureText(cause, status), status, cause);
    }
    this.setRegistration('registered', { status });
    if (this.options.transport === 'tcp') this.keepFlowAlive(flowTimer);
    return status;
  }

  /**
   * Be told, before each REGISTER that asks for a binding goes out and after a 2xx that grants a longer one, the latest
   * the registrar may hold it (`bindingMayLastUntil`): a journal that knows it can tell, after a crash, a binding that
   * may still be alive from one that has certainly expired.
   */
  onBindingLifetime(listener: (until: number) => void): () => void {
    this.bindingLifetimeListeners.add(listener);
    return () => this.bindingLifetimeListeners.delete(listener);
  }

  /**
   * A REGISTER is going out. One asking for `expires` seconds may be taken by the registrar as late as its last
   * retransmission (Timer F, 64·T1, RFC 3261 §17.1.2.2), and the registrar picks no longer than asked (§10.3 step 7).
   */
  private bindingAskedFor(registerer: Registerer): void {
    const contact = (registerer as unknown as RegistererWaiting).request.extraHeaders?.find((h) => /^contact\s*:/i.test(h));
    const asked = Number(/;\s*expires\s*=\s*(\d+)/i.exec(contact ?? '')?.[1] ?? 0);
    if (asked > 0) this.bindingMayLast(Date.now() + asked * 1000 + 64 * (this.options.timers?.t1 ?? defaultSipTimers.t1));
  }

  /**
   * A REGISTER was answered. A registrar may grant more than was asked for (Kamailio raises an expiry below its
   * min_expires rather than answer 423): the 2xx's expires parameter for our Contact counts then (RFC 3261 §10.2.4).
   */
  private bindingAnswered(registerer: Registerer): void {
    if (registerer.state !== RegistererState.Registered) return;
    const user = this.userAgent.contact.uri.user;
    const all = registerer.contacts.join(', ');
    const at = user === undefined ? -1 : all.indexOf(`:${user}@`);
    // our Contact, up to the next one (a header value may list several)
    const ours = at < 0 ? '' : all.slice(at).split(/,\s*(?=<|"|sips?:)/)[0]!;
    const granted = Number(/;\s*expires\s*=\s*(\d+)/i.exec(ours)?.[1] ?? 0);
    if (granted > 0) this.bindingMayLast(Date.now() + granted * 1000);
  }

  private bindingMayLast(until: number): void {
    if (this.bindingMayLastUntil !== undefined && this.bindingMayLastUntil >= until) return;
    this.bindingMayLastUntil = until;
    for (const listener of this.bindingLifetimeListeners) listener(until);
  }

  /** RFC 5626 §4.4.1: ping at the Flow-Timer the registrar asked for, else at 80-100 % of 120 s; a pong within 10 s. */
  private keepFlowAlive(flowTimer: string | undefined): void {
    const seconds = flowTimer !== undefined && /^\s*\d{1,6}\s*$/.test(flowTimer) ? Number(flowTimer) : undefined;
    const fixed = this.options.keepAlive?.intervalMs;
    const base = seconds !== undefined && seconds > 0 ? seconds * 1000 : 120_000;
    this.transport.keepAlive(() => fixed ?? Math.round(base * (0.8 + 0.2 * Math.random())), this.options.keepAlive?.pongTimeoutMs ?? 10_000);
  }

  /** The flow to the server was opened again after a drop: register anew over it (RFC 5626 §4.2.2), once registered. */
  private flowReopened(): void {
    const wasRegistered = this.registrationState === 'registered' || this.flowLostWhileRegistered;
    this.flowLostWhileRegistered = false;
    if (this.disposed || !this.registerer || !wasRegistered) return;
    void this.register().catch(() => this.rejects.count('REREGISTER_FAILED'));
  }

  /**
   * The server closed our connection (TCP, TLS, WS): a registrar that keeps the flow of each binding (RFC 5626 §4.2.2;
   * Kamailio restarted) can no longer reach us, so the registration is failed now rather than at its next refresh.
   * sip.js tries to connect again at once (a success registers anew, flowReopened); the account tries later (its retry).
   */
  private flowLost(): void {
    if (this.disposed || this.options.transport === 'udp' || this.registrationState !== 'registered') return;
    this.flowLostWhileRegistered = true;
    // sip.js's refresh would go over the dead flow, and beside a REGISTER of ours (a reconnect's, the retry's, the
    // user's unregister) it rejects "already in progress" with no one to catch it: the new registration refreshes itself
    this.stopRefreshing();
    this.setRegistration('failed', { reason: 'the connection to the server was lost', cause: 'unreachable' });
  }

  /**
   * Whether the registrar may hold a binding of this identity: a REGISTER went out, and the registrar did not refuse the
   * last one (one that went unanswered may still have reached it). Read before unregistering.
   */
  get mayHoldBinding(): boolean {
    return this.registerSent && !this.registerRefused;
  }

  /**
   * The server failed and the account moved on: no more REGISTER refreshes to it (RFC 3261 §10.2.1 leaves a binding to
   * expire); nothing is sent. Calls go on.
   */
  stopRefreshing(): void {
    (this.registerer as unknown as { clearTimers?: () => void } | undefined)?.clearTimers?.();
  }

  /**
   * REGISTER with Expires: 0 for our Contact (RFC 3261 §10.2.2) and wait for the answer: its status, or undefined when
   * none came (the binding expires at the registrar, and the caller's journal keeps it to remove, SPEC B). `signal`
   * cuts the wait short, never the REGISTER: it is sent even when the signal has already fired, and then undefined is
   * returned without waiting out Timer F (64·T1, 32 s) for a server that stays silent.
   */
  async unregister(options: { signal?: AbortSignal } = {}): Promise<number | undefined> {
    this.flowLostWhileRegistered = false; // a connection opened again later registers nothing
    const registerer = this.registerer;
    const waiting = registerer as unknown as RegistererWaiting | undefined;
    // Nothing to undo, unless a REGISTER is still in flight: over UDP sip.js refreshes at 99 % of the binding's life, so
    // in an outage the binding expires ("unregistered") while the refresh is retransmitted, and it registers again if
    // it lands once the server is back.
    if (!registerer || !waiting || (this.registrationState === 'unregistered' && !waiting.waiting)) return undefined;
    this.setRegistration('unregistering', {});
    const stop = abandonedOn(options.signal);
    try {
      // RFC 3261 §10.2: one REGISTER at a time. sip.js refuses an unregister while a REGISTER (a refresh) waits for its
      // answer, which left the binding behind; wait for that answer (at most 64·T1, the transaction's own timeout) first.
      if (waiting.waiting) await Promise.race([this.registerAnswered(waiting), stop.promise]);
      const answered = new Promise<number>((resolve, reject) => {
        registerer.unregister({
          requestDelegate: {
            onAccept: (response) => resolve(response.message.statusCode ?? 0),
            onReject: (response) => resolve(response.message.statusCode ?? 0),
          },
        }).catch(reject);
      }).catch(() => undefined);
      const sent = waiting.waiting; // sip.js sends it at once, and waits from then on
      const status = await Promise.race([answered, stop.promise]);
      if (sent && status === undefined && options.signal?.aborted) this.unregistrationAbandoned = true;
      this.setRegistration('unregistered', status === undefined ? {} : { status });
      return status;
    } finally {
      stop.dispose();
    }
  }

  private registerAnswered(registerer: RegistererWaiting): Promise<void> {
    const limit = 64 * (this.options.timers?.t1 ?? defaultSipTimers.t1);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, limit).unref(); // a wait cut short (unregister's signal) holds nothing open
      registerer.waitingChange.addListener(
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  /**
   * RFC 3261 §10.2.2: remove a binding an earlier run left at the registrar (it crashed before unregistering): a
   * REGISTER for that Contact with expires 0, sent from this identity. Use a throwaway identity: its Contact is
   * rewritten to the stale one. Resolves with the registrar's answer, or undefined when none came within `waitMs`
   * (at most sip.js's own Timer F) or `signal` aborted the wait: the transaction may then still run, so dispose the
   * identity with `serverGone`.
   */
  async removeBinding(contact: string, options: { signal?: AbortSignal; waitMs?: number } = {}): Promise<number | undefined> {
    this.assertAlive();
    if (options.signal?.aborted) return undefined; // nothing sent
    const stale = UserAgent.makeURI(contact);
    if (!stale) throw new SipIdentityError('REGISTER_FAILED', `"${contact}" is not a SIP URI`);
    const own = this.userAgent.contact.uri;
    own.user = stale.user;
    own.host = stale.host;
    own.port = stale.port;
    const registerer = new Registerer(this.userAgent, { expires: 600, ...(this.options.registerHeaders ? { extraHeaders: this.options.registerHeaders } : {}) });
    const stop = abandonedOn(options.signal);
    let timer: NodeJS.Timeout | undefined;
    // sip.js answers its own Timer F with a 408 made up locally (RFC 3261 §8.1.3.1): no answer from the registrar
    const answered = new Promise<number | undefined>((resolve) => {
      const heard = (response: { message: { statusCode?: number; data?: unknown } }): void => resolve(typeof response.message.data === 'string' && response.message.data !== '' ? response.message.statusCode : undefined);
      registerer.unregister({ requestDelegate: { onAccept: heard, onReject: heard } }).catch(() => resolve(undefined));
    });
    const limit = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), options.waitMs ?? 64 * (this.options.timers?.t1 ?? defaultSipTimers.t1)).unref()));
    try {
      return await Promise.race([answered, stop.promise, limit]);
    } finally {
      clearTimeout(timer);
      stop.dispose();
    }
  }

  /**
   * Create an outgoing call to `target` (a SIP URI). `anonymous`: the caller withholds its identity, and none of the
   * call's messages carries our User-Agent (RFC 3323 §5.3 counts it among the informational headers that go; it would
   * tell the callee which program the anonymous caller runs).
   */
  createCall(target: string, options: { extraHeaders?: string[]; fromUri?: string; fromDisplayName?: string; anonymous?: boolean; sessionExpires?: number } = {}): SipCall {
    this.assertAlive();
    const uri = UserAgent.makeURI(target);
    if (!uri) throw new SipIdentityError('TRANSPORT_FAILED', `invalid target URI "${target}"`);
    // A Call-ID of its own for every call, from the CSPRNG: sip.js would start it with its UserAgent's five-character
    // id, the same in every request of this identity, so a callee could link an anonymous call to an identified one
    // (RFC 3323 §4.1; RFC 3261 §8.1.1.4 asks only for global uniqueness).
    const params: Record<string, string> = { callId: randomToken(24) };
    if (options.anonymous) this.transport.withoutUserAgent(params.callId!);
    if (options.fromUri !== undefined) params.fromUri = options.fromUri;
    if (options.fromDisplayName !== undefined) params.fromDisplayName = quotedContent(options.fromDisplayName);
    const minSe = this.options.timers?.minSessionExpires ?? defaultMinSessionExpires;
    // RFC 4028 §7.1: the account asks for a session timer; a 422 makes the call ask again for more (§7.3)
    const timerHeaders = (interval: Retry['sessionInterval']): string[] =>
      interval ? sessionTimerRequestHeaders(interval.seconds, Math.max(minSe, interval.minSe)) : options.sessionExpires ? sessionTimerRequestHeaders(options.sessionExpires, minSe) : [];
    const inviterFor = (requestUri: URI, more: Record<string, unknown> = {}, interval?: Retry['sessionInterval']): Inviter => {
      const extraHeaders = [...(options.extraHeaders ?? []).filter((line) => !interval || !isSessionTimerHeader(line)), ...timerHeaders(interval)];
      return new Inviter(this.userAgent, requestUri, { ...(extraHeaders.length > 0 ? { extraHeaders } : {}), params: { ...params, ...more } });
    };
    const inviter = inviterFor(uri);
    const remote: SipRemoteParty = { uri: target };
    const user = uriUser(target);
    if (user !== undefined) remote.user = user;
    // A redirected INVITE (RFC 3261 §8.1.3.4), or one asking again for a longer session interval (RFC 4028 §7.3), goes
    // to its target with the same Call-ID, From (its tag and the anonymity headers included) and To as the first, and
    // the next CSeq (§8.1.3.5): the call's log and trace stay one.
    const retarget = (next: string, previous: Inviter, retry: Retry = {}): Inviter => {
      const requestUri = UserAgent.makeURI(next);
      if (!requestUri) throw new SipIdentityError('TRANSPORT_FAILED', `invalid redirect target "${next}"`);
      // a redirected INVITE asks for the interval the last one did (a 422 on the way may have raised it)
      return inviterFor(requestUri, { toUri: uri, cseq: previous.request.cseq + 1, fromTag: previous.request.fromTag }, retry.sessionInterval ?? askedSessionInterval(previous.request));
    };
    return this.track(SipCall.outgoing(inviter, remote, retarget, this.options.timers?.minSessionExpires));
  }

  /** Resolves once every BYE this identity sent has its final response (each waited for at most Timer F). */
  async whenByesAnswered(): Promise<void> {
    await Promise.allSettled([...this.byesInFlight]);
  }

  /**
   * Unregister when registered, end every call, stop the UserAgent and close the socket. `serverGone`: the server is
   * known to be unreachable (a soft switch failed over), so nothing is sent to it and nothing waits for its answer.
   */
  dispose(options: { serverGone?: boolean } = {}): Promise<void> {
    // once: a second caller waits for the first disposal rather than unregistering and stopping all over again
    this.disposing ??= this.disposeOnce(options);
    return this.disposing;
  }

  private async disposeOnce(options: { serverGone?: boolean }): Promise<void> {
    // A callee's BYE must wait for the ACK of its 200 (RFC 3261 §15), which sip.js does for up to 64·T1; a
    // shutdown gives the ACK a short grace and then goes on, so the unregistration is never held up for 32 s.
    const grace = options.serverGone ? 0 : 8 * (this.options.timers?.t1 ?? defaultSipTimers.t1);
    // An INVITE that reached this identity as it goes (a one-time address being replaced) is not the user's no: 480
    // lets a forking proxy go on with the account's other contacts (RFC 3261 §16.7 step 6), where 603 would end the call.
    // Each BYE, ours now or of a call already ended, is waited for until answered, so the answer still finds this
    // identity's socket (and its trace).
    const hangups = [...this.calls].map((call) => call.hangup(480).then(() => call.whenByeAnswered()));
    await Promise.race([Promise.allSettled([...hangups, ...this.byesInFlight]), delay(grace)]);
    // Disposal goes on whatever fails: a failed unregistration stays in the caller's journal (SPEC B), and a stack or
    // socket that cannot stop cleanly is dropped with the identity.
    // The unregistration gets the same grace: a registrar that does not answer within it is taken to be gone.
    if (!options.serverGone) await this.unregister({ signal: AbortSignal.timeout(grace) }).catch(() => undefined);
    this.disposed = true;
    // sip.js's own stop is graceful: it waits for an unanswered REGISTER to time out (Timer F, 32 s) before it goes on.
    // With the server gone, or silent past the grace, the stack is stopped at once: every transaction still under way
    // is dropped with it (retransmissions of an unanswered BYE or of a final response among them), as the calls were
    // hung up and given the grace above.
    if (options.serverGone || this.unregistrationAbandoned) (this.userAgent as unknown as { options: { gracefulShutdown: boolean } }).options.gracefulShutdown = false;
    await this.userAgent.stop().catch(() => undefined);
    // `serverGone`: the account left this server (a failover), which is no shutdown of the phone
    const why = options.serverGone ? 'the account left this server' : 'the identity was shut down';
    for (const giveUp of this.registersInFlight) giveUp(why);
    this.registersInFlight.clear();
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
    // a connection the server dropped (its restart) and sip.js's own attempts to open it again spent: open it again
    if (this.options.transport !== 'udp' && !this.userAgent.isConnected()) await this.userAgent.reconnect().catch(() => undefined);
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
        // sip.js answers a timeout (408) or a transport error (503) itself: no answer from the server, which is not alive
        const heard = (r: { message: { statusCode?: number; data?: unknown } }): number | undefined => (typeof r.message.data === 'string' && r.message.data !== '' ? r.message.statusCode : undefined);
        core.request(message, { onAccept: (r) => done(heard(r)), onReject: (r) => done(heard(r)) });
      } catch {
        done(undefined);
      }
    });
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private onInvite(invitation: Invitation): void {
    const call = this.track(SipCall.incoming(invitation, { t1: (this.options.timers ?? defaultSipTimers).t1, source: this.transport.takeInviteSource(invitation.request.callId), ...(this.options.timers?.minSessionExpires !== undefined ? { minSessionExpires: this.options.timers.minSessionExpires } : {}) }));
    if (this.options.onIncomingCall) this.options.onIncomingCall(call);
    else void call.reject(480).catch(() => undefined); // RFC 3261 §21.4.18; unsent, the caller's own timeout ends it
  }

  private track(call: SipCall): SipCall {
    this.calls.add(call);
    // Issue 19 item 1: a fault of sip.js inside this call is caught at its boundary, counted here, and ends the call.
    const untrack = sipStackGuard.track({
      callId: call.callId,
      get session() {
        return call.session;
      },
      get tags() {
        return { local: call.localTag, remote: call.dialogTags?.remoteTag, invite: call.unansweredInvite };
      },
      endAfterFault: (reason) => {
        this.rejects.count('SIPJS_FAULT');
        this.options.onCallFault?.(call, reason);
        call.endAfterFault(reason);
      },
    });
    void call.whenEnded().then(() => {
      this.calls.delete(call);
      untrack();
      // at most Timer F (64·T1): a BYE sip.js never sent (the call ended another way while it waited for an ACK)
      const answered = settledWithin(call.whenByeAnswered(), 64 * (this.options.timers ?? defaultSipTimers).t1);
      this.byesInFlight.add(answered);
      void answered.then(() => this.byesInFlight.delete(answered));
    });
    return call;
  }

  private setRegistration(state: RegistrationState, detail: RegistrationDetail): void {
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

/** A promise that resolves (with undefined) once `signal` aborts, never without one; dispose() drops its listener. */
function abandonedOn(signal: AbortSignal | undefined): { promise: Promise<undefined>; dispose(): void } {
  if (!signal) return { promise: new Promise(() => undefined), dispose: () => undefined };
  let onAbort!: () => void;
  const promise = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; the timer never holds the process open. */
function settledWithin(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void promise.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
