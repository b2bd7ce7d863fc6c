import type { SessionDescriptionHandlerFactory } from 'sip.js';
import type { CallLogDetail, CallLogFilter, CallLogPage } from '../api/call-log-types.js';
import type { DtmfMethod, PhoneApi } from '../api/phone-api.js';
import { PhoneError } from '../api/phone-error.js';
import type {
  AccountConfig,
  CallRequest,
  CallSnapshot,
  PhoneEvent,
  PhoneSnapshot,
  RegistrationSnapshot,
} from '../api/phone-types.js';
import { CallLogStore } from '../calllog/call-log-store.js';
import type { MediaSession } from '../media/media-session.js';
import { bareHost, parseSipUri, uriTransport } from '../sip/message/index.js';
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
import { callResult } from './call-result.js';
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
   * Keys that verify the network's signed routing headers (seed 002), read each time a call's trace is shown: the
   * lab's, or a key file. Without them signatures are decoded but get no verdict.
   */
  signatureKeys?: () => readonly VerificationKeyFile[] | undefined;
}

interface AccountRuntime {
  config: AccountConfig;
  server: Endpoint;
  domain: string;
  identity?: SipIdentity;
  opening?: Promise<SipIdentity>;
  registration: RegistrationSnapshot;
  router: TraceRouter;
}

/** The phone service every host runs: accounts, registrations, calls and the call log, behind PhoneApi. */
export class Phone implements PhoneApi {
  private readonly accounts = new Map<string, AccountRuntime>();
  private readonly calls = new Map<string, PhoneCall>();
  private readonly listeners = new Set<(event: PhoneEvent) => void>();
  private readonly callLog: CallLogStore;
  private readonly ownsCallLog: boolean;
  private stopped = false;

  constructor(private readonly options: PhoneOptions) {
    this.ownsCallLog = options.callLog === undefined;
    this.callLog = options.callLog ?? CallLogStore.open(options.callLogPath ?? ':memory:');
    for (const config of options.accounts) this.addAccount(config);
  }

  addAccount(config: AccountConfig): void {
    if (this.accounts.has(config.id)) throw new PhoneError('INVALID_ARGUMENT', `account ${config.id} already exists`);
    let server: Endpoint;
    try {
      const uri = parseSipUri(config.server);
      const transport = uriTransport(uri) ?? config.transport;
      server = { address: bareHost(uri.host), port: uri.port ?? (transport === 'ws' ? 80 : 5060) };
    } catch (error) {
      throw new PhoneError('INVALID_ARGUMENT', `account ${config.id}: bad server "${config.server}": ${(error as Error).message}`);
    }
    const domain = config.domain ?? `${config.server.replace(/^sips?:/i, '').split(';')[0]}`;
    this.accounts.set(config.id, {
      config,
      server,
      domain,
      registration: { accountId: config.id, state: 'unregistered' },
      router: new TraceRouter(),
    });
  }

  subscribe(listener: (event: PhoneEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async snapshot(): Promise<PhoneSnapshot> {
    return {
      accounts: [...this.accounts.values()].map((a) => ({ ...a.config, ...(a.config.password ? { password: '********' } : {}) })),
      registrations: [...this.accounts.values()].map((a) => ({ ...a.registration })),
      calls: [...this.calls.values()].map((c) => c.snapshot()),
    };
  }

  async register(accountId?: string): Promise<RegistrationSnapshot> {
    const account = this.account(accountId);
    const identity = await this.identity(account);
    try {
      await identity.register();
    } catch (error) {
      if (error instanceof SipIdentityError) throw new PhoneError('REGISTER_FAILED', error.message, error.status);
      throw error;
    }
    return { ...account.registration };
  }

  async unregister(accountId?: string): Promise<RegistrationSnapshot> {
    const account = this.account(accountId);
    await account.identity?.unregister();
    return { ...account.registration };
  }

  async call(request: CallRequest): Promise<CallSnapshot> {
    const account = this.account(request.accountId);
    const config = account.config;
    // SPEC A: the dial string, this call's choice and the account default decide what the INVITE presents.
    const privacy = planCallPrivacy({
      dialString: request.target,
      account: config.anonymity ?? presentByDefault,
      identity: { user: config.user, domain: bareHost(account.domain) },
      ...(request.anonymity !== undefined ? { anonymity: request.anonymity } : {}),
      ...(request.anonymityLevel !== undefined ? { level: request.anonymityLevel } : {}),
      ...(config.dialRules ? { rules: config.dialRules } : {}),
    });
    const uri = dialTargetToUri(privacy.target, account.domain);
    const shownUri = dialTargetToUri(matchDialRules(request.target, config.dialRules).rest, account.domain);
    const identity = await this.identity(account);
    const sip = identity.createCall(uri, {
      extraHeaders: privacy.extraHeaders,
      ...(privacy.from ? { fromUri: privacy.from.uri, fromDisplayName: privacy.from.display } : {}),
    });
    const call = new PhoneCall(config.id, sip, partyFrom({ uri: shownUri, ...(uriUser(shownUri) !== undefined ? { user: uriUser(shownUri)! } : {}) }), formatEndpoint(identity.local), request.target);
    call.anonymity = privacy.mode;
    call.sent = sip.sentHeaders();
    this.track(account, call);
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
    // A callee still waiting for the ACK of its 200 may not send its BYE before it (RFC 3261 §15), up to 64·T1: the
    // same short grace as SipIdentity.dispose, so a lost ACK never holds a shutdown for half a minute.
    const grace = 8 * (this.options.timers?.t1 ?? defaultSipTimers.t1);
    await Promise.race([Promise.allSettled([...this.calls.values()].map((c) => c.sip.hangup())), new Promise((resolve) => setTimeout(resolve, grace).unref())]);
    await Promise.allSettled([...this.accounts.values()].map((a) => a.identity?.dispose()));
    if (this.ownsCallLog) this.callLog.close();
    else this.callLog.flush();
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

  private identity(account: AccountRuntime): Promise<SipIdentity> {
    if (account.identity && !account.identity.isDisposed) return Promise.resolve(account.identity);
    account.opening ??= this.openIdentity(account).finally(() => (account.opening = undefined));
    return account.opening;
  }

  private async openIdentity(account: AccountRuntime): Promise<SipIdentity> {
    const config = account.config;
    const address = config.localAddress ?? (await sourceAddressFor(account.server.address, account.server.port));
    const portRange = this.options.mediaPortRange ?? { min: 16384, max: 32767 };
    try {
      const identity = await SipIdentity.create({
        aor: { user: config.user, domain: account.domain },
        ...(config.displayName !== undefined ? { displayName: config.displayName } : {}),
        ...(config.password !== undefined ? { auth: { username: config.authUser ?? config.user, password: config.password } } : {}),
        transport: config.transport,
        local: { address, port: 0 },
        server: account.server,
        ...(config.registerExpires !== undefined ? { registerExpires: config.registerExpires } : {}),
        sessionDescriptionHandlerFactory: this.options.createSessionDescriptionHandlerFactory({ advertisedAddress: address, bindAddress: address, portRange, accountId: config.id }),
        tap: (entry) => {
          account.router.tap(entry);
          this.options.onTrace?.(config.id, entry);
        },
        ...(this.options.timers ? { timers: this.options.timers } : {}),
        onIncomingCall: (sip) => this.onIncoming(account, sip, identity),
        onRegistrationChange: (state, detail) => {
          account.registration = { accountId: config.id, state, contact: identity.contactUri, ...detail };
          this.emit({ type: 'registration', registration: { ...account.registration } });
        },
      });
      account.identity = identity;
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
    const call = new PhoneCall(account.config.id, sip, partyFrom(sip.remote, anonymity.anonymous), formatEndpoint(identity.local));
    this.track(account, call);
    this.emit({ type: 'incoming', call: call.snapshot() });
    const offer = sip.inviteBody;
    const problem = offer && /^application\/sdp\b/i.test(offer.contentType) ? this.options.createSessionDescriptionHandlerFactory.offerProblem?.(offer.body) : undefined;
    if (problem !== undefined) {
      // RFC 3261 §21.4.26 with a Warning (§20.43, code 305: incompatible media format) saying what was wrong.
      const warning = `305 ${identity.local.address.includes(':') ? `[${identity.local.address}]` : identity.local.address} "${problem.replace(/["\\\r\n]/g, ' ').slice(0, 120)}"`;
      void sip.reject(488, 'Not Acceptable Here', [`Warning: ${warning}`]).catch(() => undefined);
      return;
    }
    const answer = account.config.answer ?? { kind: 'manual' };
    if (answer.kind === 'reject') {
      void sip.reject(answer.status).catch(() => undefined);
      return;
    }
    void sip.ring().catch(() => undefined);
    if (answer.kind === 'auto') {
      const answerNow = (): void => void sip.answer().catch(() => undefined);
      if (answer.delayMs) setTimeout(answerNow, answer.delayMs);
      else setImmediate(answerNow); // after the 180 went out, without a timer's extra millisecond
    }
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
      account.router.release(snapshot.sipCallId);
      this.calls.delete(call.id);
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
