import {
  Invitation,
  Inviter,
  SessionState,
  type Session,
  type SessionDescriptionHandler,
} from 'sip.js';
import type { SessionDialog } from 'sip.js/lib/core/dialogs/session-dialog.js';
import type { IncomingResponse } from 'sip.js/lib/core/messages/incoming-response.js';
import type { HangupParty } from '../api/phone-types.js';
import { parseNameAddr, parseSipUri, type NameAddr } from './message/index.js';

export type SipCallState = 'calling' | 'ringing' | 'incoming' | 'established' | 'terminated';

export class SipCallError extends Error {
  override readonly name = 'SipCallError';
  constructor(
    readonly code: 'INVALID_STATE' | 'REJECTED' | 'TIMEOUT',
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The remote party as the headers of the initial INVITE (or our own request) present it. */
export interface SipRemoteParty {
  uri: string;
  user?: string;
  display?: string;
}

/**
 * One INVITE dialog over sip.js, outgoing (Inviter) or incoming (Invitation), reduced to the facts a phone and a
 * call log need: state, final status, who hung up, timestamps, and the raw headers of the initial INVITE.
 */
export class SipCall {
  state: SipCallState;
  /** Final status of the initial INVITE transaction (RFC 3261 §13.2.2.4 / §13.3.1.4). */
  finalStatus?: number;
  finalReason?: string;
  endedBy?: HangupParty;
  readonly createdAt = Date.now();
  inviteSentAt?: number;
  answeredAt?: number;
  endedAt?: number;
  localHold = false;
  private readonly listeners = new Set<(call: SipCall) => void>();
  private readonly infoDigitListeners = new Set<(digit: { digit: string; durationMs: number }) => void>();
  private readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  private constructor(
    readonly direction: 'outgoing' | 'incoming',
    readonly session: Session,
    readonly callId: string,
    readonly remote: SipRemoteParty,
    /** Headers of the initial INVITE as received (incoming) — anonymity detection reads these. */
    readonly inviteHeaders: Record<string, string[]>,
  ) {
    this.state = direction === 'outgoing' ? 'calling' : 'incoming';
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    session.stateChange.addListener((state) => this.onSessionState(state));
    session.delegate = {
      ...session.delegate,
      onBye: (bye) => {
        this.endedBy ??= 'remote';
        bye.accept().catch(() => undefined);
      },
      onInfo: (info) => {
        const digit = dtmfRelayDigit(info.request.getHeader('content-type') ?? '', info.request.body);
        info.accept().catch(() => undefined);
        if (digit) for (const listener of this.infoDigitListeners) listener(digit);
      },
    };
  }

  static outgoing(inviter: Inviter, remote: SipRemoteParty): SipCall {
    return new SipCall('outgoing', inviter, inviter.request.callId, remote, {});
  }

  static incoming(invitation: Invitation): SipCall {
    const request = invitation.request;
    const from = safeNameAddr(request.getHeader('from') ?? '');
    const remote: SipRemoteParty = { uri: from ? formatUri(from) : request.from.uri.toString() };
    if (from?.uri.user !== undefined) remote.user = from.uri.user;
    if (from?.display !== undefined) remote.display = from.display;
    const headers: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(request.headers)) {
      headers[name.toLowerCase()] = values.map((v) => v.raw);
    }
    const call = new SipCall('incoming', invitation, request.callId, remote, headers);
    invitation.delegate = {
      ...invitation.delegate,
      onCancel: () => {
        call.endedBy = 'remote';
        call.finalStatus = 487; // RFC 3261 §9.2: the INVITE is answered 487 when CANCEL arrives first
        call.finalReason = 'Request Terminated';
        if (call.state === 'terminated') call.emit();
      },
    };
    return call;
  }

  get sessionDescriptionHandler(): SessionDescriptionHandler | undefined {
    return this.session.sessionDescriptionHandler;
  }

  onChange(listener: (call: SipCall) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** DTMF the peer sent as SIP INFO (`application/dtmf-relay`), the fallback to RFC 4733. */
  onInfoDigit(listener: (digit: { digit: string; durationMs: number }) => void): () => void {
    this.infoDigitListeners.add(listener);
    return () => this.infoDigitListeners.delete(listener);
  }

  /** Resolves once the call is terminated, whatever the reason. */
  whenEnded(): Promise<void> {
    return this.ended;
  }

  /** Send the INVITE; resolves with the final status (2xx or failure), never rejects on a SIP failure. */
  async invite(): Promise<number> {
    const inviter = this.session as Inviter;
    this.inviteSentAt = Date.now();
    return new Promise<number>((resolve, reject) => {
      inviter
        .invite({
          requestDelegate: {
            onProgress: (response) => this.onProgress(response),
            onAccept: (response) => {
              this.recordFinal(response);
              resolve(statusOf(response));
            },
            onReject: (response) => {
              this.recordFinal(response);
              this.endedBy ??= 'remote';
              resolve(statusOf(response));
            },
            onRedirect: (response) => {
              this.recordFinal(response);
              resolve(statusOf(response));
            },
          },
        })
        .catch(reject);
      void this.ended.then(() => resolve(this.finalStatus ?? 0));
    });
  }

  /** Answer an incoming call (200 OK with our SDP answer). */
  async answer(): Promise<void> {
    if (!(this.session instanceof Invitation) || this.state !== 'incoming') {
      throw new SipCallError('INVALID_STATE', `cannot answer a call in state ${this.state}`);
    }
    await this.session.accept();
    this.finalStatus = 200;
    this.finalReason = 'OK';
  }

  /** Send 180 Ringing for an incoming call. */
  async ring(): Promise<void> {
    if (this.session instanceof Invitation && this.state === 'incoming') await this.session.progress();
  }

  async reject(status = 486, reason?: string, extraHeaders?: string[]): Promise<void> {
    if (!(this.session instanceof Invitation) || this.state !== 'incoming') {
      throw new SipCallError('INVALID_STATE', `cannot reject a call in state ${this.state}`);
    }
    if (status < 300 || status > 699) throw new SipCallError('INVALID_STATE', `reject status ${status} is not a failure status`);
    this.endedBy = 'local';
    this.finalStatus = status;
    if (reason !== undefined) this.finalReason = reason;
    await this.session.reject({ statusCode: status, ...(reason !== undefined ? { reasonPhrase: reason } : {}), ...(extraHeaders ? { extraHeaders } : {}) });
  }

  /** Outgoing: From, To and Request-URI of the INVITE as sip.js built it (what the call log says was sent). */
  sentHeaders(): { from: string; to: string; requestUri: string } | undefined {
    if (!(this.session instanceof Inviter)) return undefined;
    const request = this.session.request;
    return { from: request.getHeader('from') ?? '', to: request.getHeader('to') ?? '', requestUri: request.ruri.toString() };
  }

  /** The body of the initial INVITE we received, with its content type (the SDP offer, usually). */
  get inviteBody(): { contentType: string; body: string } | undefined {
    if (!(this.session instanceof Invitation)) return undefined;
    const request = this.session.request;
    return request.body ? { contentType: request.getHeader('content-type') ?? '', body: request.body } : undefined;
  }

  /**
   * End the call the way its state requires: CANCEL, reject or BYE. An unanswered incoming call is declined with 603
   * (the user's no, which ends a forked call everywhere, RFC 3261 §21.6.2) unless `rejectStatus` says otherwise.
   */
  async hangup(rejectStatus = 603): Promise<void> {
    if (this.state === 'terminated') return;
    this.endedBy ??= 'local';
    const session = this.session;
    if (session.state === SessionState.Established) {
      await session.bye();
    } else if (session instanceof Inviter) {
      await session.cancel();
    } else if (session instanceof Invitation) {
      this.finalStatus = rejectStatus;
      await session.reject({ statusCode: rejectStatus });
    }
  }

  /**
   * Hold (sendonly offer) or resume (sendrecv) by re-INVITE (RFC 3264 §8.4); resolves with the final status.
   * A glare 491 or a 500 is retried after the wait RFC 3261 §14.1/§14.2 prescribe, for up to `retryWindowMs`.
   */
  async hold(on: boolean, retryWindowMs = 32_000): Promise<number> {
    // The peer refuses while it waits for our ACK, and it waits at most 64·T1 (32 s) for it: retry within that.
    const giveUpAt = Date.now() + retryWindowMs;
    for (;;) {
      if (this.state !== 'established') throw new SipCallError('INVALID_STATE', `cannot change hold in state ${this.state}`);
      await this.inviteTransactionsIdle();
      const { status, retryAfterMs } = await this.reinvite(on);
      if (status < 300 || retryAfterMs === undefined || Date.now() + retryAfterMs > giveUpAt) return status;
      await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    }
  }

  /**
   * RFC 3261 §14.1: a new re-INVITE MUST wait until an ongoing INVITE client transaction is completed and an
   * ongoing INVITE server transaction is confirmed (its ACK arrived): the peer's re-INVITE or the ACK to our 200
   * for it may still be on its way. Waits at most 64·T1 (the longest an ACK can take), then lets sip.js refuse.
   */
  private async inviteTransactionsIdle(maxWaitMs = 32_000): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    const busy = (): boolean => {
      // The api's Session.dialog is typed as the core interface; the object is the SessionDialog with these fields.
      const dialog = this.session.dialog as SessionDialog | undefined;
      return dialog !== undefined && (dialog.reinviteUserAgentClient !== undefined || dialog.reinviteUserAgentServer !== undefined);
    };
    while (busy() && this.state === 'established' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private reinvite(hold: boolean): Promise<{ status: number; retryAfterMs?: number }> {
    const options = { hold } as Record<string, unknown>;
    return new Promise((resolve, reject) => {
      this.session
        .invite({
          sessionDescriptionHandlerOptions: options,
          requestDelegate: {
            onAccept: (response) => {
              this.localHold = hold;
              this.emit();
              resolve({ status: statusOf(response) });
            },
            onReject: (response) => {
              const status = statusOf(response);
              resolve({ status, ...retryDelay(status, response) });
            },
          },
        })
        .catch(reject);
    });
  }

  /** An in-dialog INFO (used for `application/dtmf-relay`). */
  async info(contentType: string, body: string): Promise<void> {
    if (this.state !== 'established') throw new SipCallError('INVALID_STATE', `cannot send INFO in state ${this.state}`);
    await this.session.info({ requestOptions: { body: { contentDisposition: 'render', contentType, content: body } } });
  }

  private onProgress(response: IncomingResponse): void {
    if (statusOf(response) >= 180 && this.state === 'calling') {
      this.state = 'ringing';
      this.emit();
    }
  }

  /** sip.js may end the session before or after it hands us the final response; either way listeners see both. */
  private recordFinal(response: IncomingResponse): void {
    this.finalStatus = statusOf(response);
    this.finalReason = response.message.reasonPhrase;
    if (this.state === 'terminated') this.emit();
  }

  /**
   * The identity is going away (its UserAgent stops): a call sip.js still holds open — a callee's hang-up waiting
   * for the ACK it may never get — ends here, so nothing above waits for it.
   */
  abandon(): void {
    if (this.state !== 'terminated') this.onSessionState(SessionState.Terminated);
  }

  private onSessionState(state: SessionState): void {
    if (state === SessionState.Established) {
      this.state = 'established';
      this.answeredAt = Date.now();
      this.finalStatus ??= 200;
      this.emit();
    } else if (state === SessionState.Terminated && this.state !== 'terminated') {
      this.state = 'terminated';
      this.endedAt = Date.now();
      this.endedBy ??= 'network';
      this.emit();
      this.resolveEnded();
    }
  }

  private emit(): void {
    for (const listener of this.listeners) listener(this);
  }
}

function safeNameAddr(text: string): NameAddr | undefined {
  try {
    return parseNameAddr(text);
  } catch {
    return undefined;
  }
}

function formatUri(addr: NameAddr): string {
  const { user, host, port, scheme } = addr.uri;
  return `${scheme}:${user !== undefined ? `${user}@` : ''}${host}${port !== undefined ? `:${port}` : ''}`;
}

/** The user part of a target URI, for display. */
export function uriUser(uri: string): string | undefined {
  try {
    return parseSipUri(uri).user;
  } catch {
    return undefined;
  }
}

function statusOf(response: IncomingResponse): number {
  return response.message.statusCode ?? 0;
}

/**
 * When a refused re-INVITE may be tried again. 491 (glare): after 0-2 s (RFC 3261 §14.1). 500: the peer was still
 * finishing the previous INVITE — typically waiting for an ACK that was lost (RFC 5407 §3.1.4, RFC 6337 §4.3) — after
 * its Retry-After (at most 10 s, §14.2), or 0-2 s when a proxy or the peer left it out.
 */
function retryDelay(status: number, response: IncomingResponse): { retryAfterMs?: number } {
  if (status === 491) return { retryAfterMs: Math.floor(Math.random() * 2000) };
  if (status !== 500) return {};
  const retryAfter = Number(response.message.getHeader('retry-after')?.split(/[\s;(]/)[0]);
  if (Number.isFinite(retryAfter) && retryAfter >= 0 && retryAfter <= 10) return { retryAfterMs: retryAfter * 1000 };
  return { retryAfterMs: Math.floor(Math.random() * 2000) };
}

/** The digit of an `application/dtmf-relay` INFO body (`Signal=5`, `Duration=160`), or undefined. */
export function dtmfRelayDigit(contentType: string, body: string): { digit: string; durationMs: number } | undefined {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/dtmf-relay' && type !== 'application/dtmf') return undefined;
  const signal = /^\s*signal\s*=\s*([0-9A-Da-d*#])\s*$/im.exec(body)?.[1] ?? (type === 'application/dtmf' ? /^\s*([0-9A-Da-d*#])\s*$/.exec(body)?.[1] : undefined);
  if (signal === undefined) return undefined;
  const duration = Number(/^\s*duration\s*=\s*(\d{1,5})\s*$/im.exec(body)?.[1] ?? 100);
  return { digit: signal.toUpperCase(), durationMs: duration };
}
