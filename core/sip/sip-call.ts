import {
  Invitation,
  Inviter,
  SessionState,
  UserAgent,
  type Notification,
  type Referral,
  type Session,
  type SessionDescriptionHandler,
} from 'sip.js';
import type { SessionDialog } from 'sip.js/lib/core/dialogs/session-dialog.js';
import { letGoOfFinishedSession } from './finished-session.js';
import { completedElsewhere } from './cancel-reason.js';
import type { IncomingResponse } from 'sip.js/lib/core/messages/incoming-response.js';
import type { OutgoingRequestDelegate, RequestOptions } from 'sip.js/lib/core/messages/outgoing-request.js';
import type { CallEndCause, HangupParty } from '../api/phone-types.js';
import { parseNameAddr, parseSipUri, type NameAddr } from './message/index.js';
import type { Endpoint } from './transport/endpoint.js';
import { maxRedirections, redirectTargets, targetKey } from './redirect-targets.js';
import { ReliableProvisionals } from './reliable-provisional.js';
import { askedSessionInterval, intervalAfter422, parseMinSe } from './session-timer.js';
import { DialogSessionTimer } from './dialog-session-timer.js';
import { retryAfterSeconds } from './message/retry-after.js';
import type { IncomingRequest } from 'sip.js/lib/core/messages/incoming-request.js';

/** A re-INVITE's final status, how long to wait before trying again (491, 500), and a 422's Min-SE (RFC 4028 §6). */
interface ReinviteResult {
  status: number;
  retryAfterMs?: number;
  minSe?: number;
}

/** At most this many INVITEs again after 422s (each must ask for more than the last): RFC 4028 sets no bound. */
const maxIntervalRetries = 3;

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

/** One step of a redirected call (RFC 3261 §8.1.3.4): the response that sent it on, and where the next INVITE went. */
export interface SipRedirect {
  /** The 3xx, or the failure of a target that moved the call on to the next one of the set. */
  status: number;
  reason?: string;
  target: string;
}

/** What changes in an INVITE sent again: the session interval it asks for (RFC 4028 §7.3, after a 422). */
export interface Retry {
  sessionInterval?: { seconds: number; minSe: number };
}

/** Makes the INVITE for another target of an outgoing call, or for the same one again, after `previous` (same Call-ID, From and To). */
export type Retarget = (target: string, previous: Inviter, retry?: Retry) => Inviter;
/**
 * A session description handler that plays early media (core/media's plain-RTP one does): the answer in a provisional
 * response is applied before the call is answered, and the 2xx's answer replaces it when it differs.
 */
export interface EarlyMediaHandler {
  /** Apply the SDP answer of a 18x to our offer: the peer's audio plays; nothing of ours is sent before the answer. */
  applyEarlyAnswer(sdp: string): Promise<void>;
  /** Apply an answer that replaces the one the media follows (the 2xx's, when it differs from the 18x's). */
  applyAnswer(sdp: string): Promise<void>;
  /** The answer the media follows now, if any. */
  readonly appliedAnswer: string | undefined;
}

function earlyMediaHandler(handler: SessionDescriptionHandler | undefined): EarlyMediaHandler | undefined {
  const candidate = handler as Partial<EarlyMediaHandler> | undefined;
  return typeof candidate?.applyEarlyAnswer === 'function' && typeof candidate.applyAnswer === 'function' ? (candidate as EarlyMediaHandler) : undefined;
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
  /** Incoming: the caller's CANCEL said another branch answered (RFC 3326 "Call completed elsewhere"). */
  completedElsewhere = false;
  endedBy?: HangupParty;
  readonly createdAt = Date.now();
  inviteSentAt?: number;
  answeredAt?: number;
  endedAt?: number;
  localHold = false;
  /** Why the SIP stack failed inside this call, when it did (the call was then ended: sip-stack-guard.ts). */
  fault?: string;
  /** Outgoing: the redirections followed, in order (empty when the first target answered or failed). */
  readonly redirects: SipRedirect[] = [];
  private current!: Session;
  /** The target set of the redirections (RFC 3261 §8.1.3.4): targets still to try, and every one ever placed in it. */
  private readonly targets: string[] = [];
  private readonly tried = new Set<string>();
  /** A redirection (or a 422) was just taken: invite() sends the next INVITE instead of returning. */
  private following = false;
  /** INVITEs sent again after a 422 asking for a longer session interval (RFC 4028 §7.3). */
  private intervalRetries = 0;
  /** Incoming: the address and port the INVITE came from (the server, or a peer that called the Contact directly). */
  source?: Endpoint;
  private hangupRequested = false;
  /** Outgoing, before the answer: the peer's early media plays, so no local ringback (a 18x carried an SDP answer; RFC 3960 §3.2). */
  earlyMedia = false;
  /** Why an answer the peer sent in a 18x or the 2xx could not be applied to the media, if one could not. */
  mediaProblem?: string;
  /** Incoming, when the caller requires 100rel (RFC 3262): our reliable 18x and the PRACKs for them. */
  reliable?: ReliableProvisionals;
  private readonly listeners = new Set<(call: SipCall) => void>();
  private readonly infoDigitListeners = new Set<(digit: { digit: string; durationMs: number }) => void>();
  private referListener?: (referral: Referral) => void;
  private readonly ended: Promise<void>;
  private resolveEnded!: () => void;
  private byeAnswered: Promise<void> = Promise.resolve();
  /** Our re-INVITEs, one after the other (`queued`). */
  private reinviteChain: Promise<void> = Promise.resolve();
  /** RFC 4028: the dialog's session timer, once a 2xx set one. */
  private readonly sessionTimer: DialogSessionTimer;
  /** Why the phone ended the answered call by itself (endByNetwork): no media, or its session expired. */
  endCause?: CallEndCause;

  private constructor(
    readonly direction: 'outgoing' | 'incoming',
    session: Session,
    readonly callId: string,
    readonly remote: SipRemoteParty,
    /** Headers of the initial INVITE as received (incoming) — anonymity detection reads these. */
    readonly inviteHeaders: Record<string, string[]>,
    /** Outgoing: how to send the call on to another target; without it a 3xx ends the call. */
    private readonly retarget?: Retarget,
    /** Our Min-SE in seconds (RFC 4028 §5; 90 by default, tests make it shorter). */
    minSessionExpires?: number,
  ) {
    this.state = direction === 'outgoing' ? 'calling' : 'incoming';
    this.sessionTimer = new DialogSessionTimer(
      {
        established: () => this.state === 'established',
        refresh: () => this.refreshSession(),
        expire: () => this.endByNetwork({ kind: 'session-expired' }),
      },
      minSessionExpires,
    );
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.attach(session);
  }

  /** The sip.js session of the call: after a redirection, the Inviter of the target tried now. */
  get session(): Session {
    return this.current;
  }

  private attach(session: Session): void {
    this.current = session;
    this.sessionTimer.takeRefreshes(session, () => this.current === session);
    session.stateChange.addListener((state) => {
      if (this.current === session) this.onSessionState(state, session);
      // after this turn: sip.js may still hand the ended session its last response (a 3xx this call may follow)
      if (state === SessionState.Terminated) queueMicrotask(() => letGoOfFinishedSession(session));
    });
    session.delegate = {
      ...session.delegate,
      onBye: (bye) => {
        this.endedBy ??= 'remote';
        // A 200 that cannot be sent: the call has ended all the same, and a peer without it resends its BYE (§15.1.2).
        bye.accept().catch(() => undefined);
      },
      onInfo: (info) => {
        const digit = dtmfRelayDigit(info.request.getHeader('content-type') ?? '', info.request.body);
        // A 200 that cannot be sent: the peer resends its INFO, and the digit is taken below either way.
        info.accept().catch(() => undefined);
        if (digit) for (const listener of this.infoDigitListeners) listener(digit);
      },
      // RFC 3515 §2.4.2: a REFER nobody takes is declined (sip.js would follow it by itself).
      onRefer: (referral) => {
        if (this.referListener) this.referListener(referral);
        else void referral.reject({ statusCode: 603 }).catch(() => undefined);
      },
    };
  }

  /** `minSessionExpires`: our Min-SE in seconds (RFC 4028; 90 by default), the least interval a 2xx may set. */
  static outgoing(inviter: Inviter, remote: SipRemoteParty, retarget?: Retarget, minSessionExpires?: number): SipCall {
    const call = new SipCall('outgoing', inviter, inviter.request.callId, remote, {}, retarget, minSessionExpires);
    call.tried.add(targetKey(inviter.request.ruri.toString()));
    return call;
  }

  /**
   * `t1`: RFC 3261's T1 of the identity, the first retransmission interval of a reliable 18x (RFC 3262 §3). `source`:
   * where the INVITE came from (the server, or a peer that called the Contact directly).
   */
  static incoming(invitation: Invitation, options: { t1?: number; source?: Endpoint; minSessionExpires?: number } = {}): SipCall {
    const request = invitation.request;
    const from = safeNameAddr(request.getHeader('from') ?? '');
    const remote: SipRemoteParty = { uri: from ? formatUri(from) : request.from.uri.toString() };
    if (from?.uri.user !== undefined) remote.user = from.uri.user;
    if (from?.display !== undefined) remote.display = from.display;
    const headers: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(request.headers)) {
      headers[name.toLowerCase()] = values.map((v) => v.raw);
    }
    const call = new SipCall('incoming', invitation, request.callId, remote, headers, undefined, options.minSessionExpires);
    call.sessionTimer.inviteReceived(request);
    if (ReliableProvisionals.required(invitation)) {
      // RFC 3262 §3: no PRACK within 64·T1 — the INVITE is refused with a 5xx and the call ends.
      call.reliable = new ReliableProvisionals(invitation, options.t1 ?? 500, () => call.giveUpUnacknowledged());
    }
    if (options.source) call.source = options.source;
    invitation.delegate = {
      ...invitation.delegate,
      onCancel: (cancel) => {
        call.endedBy = 'remote';
        call.finalStatus = 487; // RFC 3261 §9.2: the INVITE is answered 487 when CANCEL arrives first
        call.finalReason = 'Request Terminated';
        // RFC 3326 §2: another phone of a forked call answered it
        if (completedElsewhere(cancel.request.getHeaders('reason'))) call.completedElsewhere = true;
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

  /** An in-dialog REFER (RFC 3515): the listener accepts or rejects it. */
  onRefer(listener: (referral: Referral) => void): void {
    this.referListener = listener;
  }

  /**
   * Send a REFER (RFC 3515 §2.4.1) asking the peer to call `target` — a URI (blind transfer), or another established
   * call, whose dialog the Refer-To names with Replaces (RFC 3891 §5, attended transfer). Resolves with the REFER's
   * final status; the peer's NOTIFYs about the new call go to `onNotify`.
   */
  async refer(target: string | SipCall, onNotify: (notification: Notification) => void, referredBy?: string): Promise<number> {
    if (this.state !== 'established') throw new SipCallError('INVALID_STATE', `cannot transfer a call in state ${this.state}`);
    let referTo: string;
    if (typeof target === 'string') {
      if (!UserAgent.makeURI(target)) throw new SipCallError('INVALID_STATE', `"${target}" is not a SIP URI`);
      referTo = target;
    } else {
      const dialog = target.session.dialog;
      if (target.state !== 'established' || !dialog) throw new SipCallError('INVALID_STATE', `cannot replace a call in state ${target.state}`);
      // RFC 3891 §6.1: to-tag and from-tag as the target sees them (its local tag is our remote one).
      const replaces = encodeURIComponent(`${dialog.callId};to-tag=${dialog.remoteTag};from-tag=${dialog.localTag}`);
      // RFC 5589 §7.1: the target's address-of-record reaches it through proxies that route by registration only
      // (its Contact user is a random token no location service knows); an anonymous one is reached at its Contact.
      const aor = target.remote.uri;
      const where = /@anonymous\.invalid$|^sips?:anonymous@/i.test(aor) ? dialog.remoteTarget.toString() : aor;
      referTo = `${where}?Replaces=${replaces}`;
    }
    const extraHeaders = [
      // RFC 3515 §2.1: the name-addr form, so that the URI's parameters and headers stay the URI's.
      `Refer-To: <${referTo}>`,
      `Contact: ${this.session.userAgent.contact.toString()}`,
      // RFC 3892: who asked, unless this call withheld who we are (SPEC A).
      ...(referredBy !== undefined ? [`Referred-By: <${referredBy}>`] : []),
    ];
    // sip.js's Session.refer writes Refer-To without angle brackets and always names our address-of-record in
    // Referred-By; its `_refer` sends the REFER in the dialog with the header fields given and routes the NOTIFYs.
    const session = this.session as unknown as {
      _refer(onNotify: (notification: Notification) => void, delegate: OutgoingRequestDelegate, options: RequestOptions): Promise<unknown>;
    };
    return new Promise<number>((resolve, reject) => {
      session
        ._refer(onNotify, { onAccept: (response) => resolve(statusOf(response)), onReject: (response) => resolve(statusOf(response)) }, { extraHeaders })
        .catch(reject);
    });
  }

  /**
   * A NOTIFY in this dialog about a REFER we accepted (RFC 3515 §2.4.4-2.4.5): `message/sipfrag` with the status line
   * of the new call, `Subscription-State: active` while it is provisional, `terminated` once it is final.
   */
  notifyRefer(statusLine: string, final: boolean, referCseq?: number): void {
    const dialog = this.session.dialog;
    if (!dialog || this.state !== 'established') return;
    dialog.notify(undefined, {
      extraHeaders: [
        `Event: refer${referCseq !== undefined ? `;id=${referCseq}` : ''}`,
        // RFC 6665 §4.1.3: an active subscription says how long it lasts; the end says why (RFC 6665 §4.1.3 reasons).
        final ? 'Subscription-State: terminated;reason=noresource' : 'Subscription-State: active;expires=60',
      ],
      body: { contentDisposition: 'render', contentType: 'message/sipfrag', content: statusLine },
    });
  }

  /**
   * This end's tag (RFC 3261 §19.3): the From tag of the INVITE we sent, or the To tag we answer with. Random, and seen
   * only by those our signalling reached, so a message that carries it belongs to this call.
   */
  get localTag(): string | undefined {
    const request = (this.session as unknown as { request?: { fromTag?: unknown; toTag?: unknown } }).request ?? {};
    const tag = this.direction === 'outgoing' ? request.fromTag : request.toTag;
    return typeof tag === 'string' && tag !== '' ? tag : undefined;
  }

  /**
   * An incoming call not yet answered: its INVITE's From tag and top Via branch, by which a CANCEL names it (RFC 3261
   * §9.2; a CANCEL carries no To tag, so not this end's tag).
   */
  get unansweredInvite(): { fromTag: string; branch: string } | undefined {
    if (this.direction !== 'incoming' || this.state !== 'incoming') return undefined;
    const request = (this.session as unknown as { request?: { fromTag?: unknown; viaBranch?: unknown } }).request;
    return typeof request?.fromTag === 'string' && typeof request.viaBranch === 'string' ? { fromTag: request.fromTag, branch: request.viaBranch } : undefined;
  }

  /**
   * Incoming: the INVITE asked for a session interval below our Min-SE and supports the timer: it is to be refused
   * 422 with these headers before it rings (RFC 4028 §9), and the caller tries again with a longer one.
   */
  get sessionIntervalRefusal(): { status: 422; reason: string; headers: string[] } | undefined {
    return this.sessionTimer.refusal;
  }

  /** The session timer now (RFC 4028): its interval in seconds and whether we refresh; undefined without one. */
  get sessionTimerState(): { interval: number; weRefresh: boolean } | undefined {
    return this.sessionTimer.state;
  }

  /** The dialog's Call-ID and tags, once it has one (RFC 3891 matches Replaces against them). */
  get dialogTags(): { localTag: string; remoteTag: string } | undefined {
    const dialog = this.session.dialog;
    return dialog ? { localTag: dialog.localTag, remoteTag: dialog.remoteTag } : undefined;
  }

  /** Resolves once the call is terminated, whatever the reason. */
  whenEnded(): Promise<void> {
    return this.ended;
  }

  /** Resolves once our BYE has its final response (sip.js makes one up when none comes); at once when we sent none. */
  whenByeAnswered(): Promise<void> {
    return this.byeAnswered;
  }

  /**
   * Send the INVITE; resolves with the final status (2xx or failure), never rejects on a SIP failure. A 3xx sends the
   * call on to the targets its Contacts name (RFC 3261 §8.1.3.4), each at most once (no loops) and at most
   * `maxRedirections` INVITEs more; a target that fails moves it on to the next of the set. `redirects` says where.
   */
  async invite(): Promise<number> {
    this.inviteSentAt = Date.now();
    for (;;) {
      const status = await this.inviteOnce(this.current as Inviter);
      if (!this.following) return status;
      this.following = false;
      if (this.hangupRequested) {
        this.markTerminated();
        return status;
      }
    }
  }

  private inviteOnce(inviter: Inviter): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      inviter
        .invite({
          requestDelegate: {
            onProgress: (response) => this.onProgress(response),
            onAccept: (response) => {
              this.recordFinal(response);
              void this.followFinalAnswer(response).then(() => resolve(statusOf(response)));
            },
            onReject: (response) => {
              // a 2xx no dialog can be made from (no To tag, no Contact: tools/postinstall/sipjs-unusable-2xx.js)
              if (statusOf(response) < 300) {
                // only while the call is being set up, once: a late or forked one, or its retransmissions, after a good
                // 200 changes nothing (sip.js's Inviter ignores it then; its delegate still hears of it)
                if (inviter.state === SessionState.Terminated && this.finalStatus === undefined) this.unusableAnswer(response);
                resolve(502);
                return;
              }
              this.recordFinal(response);
              if (!this.askAgainForLongerInterval(response) && !this.followRedirect(response)) this.endedBy ??= 'remote';
              resolve(statusOf(response));
            },
            onRedirect: (response) => {
              this.recordFinal(response);
              this.followRedirect(response);
              resolve(statusOf(response));
            },
          },
        })
        .catch(reject);
      void this.ended.then(() => resolve(this.finalStatus ?? 0));
    });
  }

  /**
   * RFC 4028 §7.3: a 422 to our INVITE names the least session interval a proxy on the way or the callee takes (its
   * Min-SE; we asked for less, or a proxy asked for less for us): the INVITE goes again to the same target asking for
   * that much, with the same Call-ID, From and To and the next CSeq. Each 422 must name more than the last INVITE
   * asked for, and a few are followed at most: no peer keeps the call going round. False when the call does not go again.
   */
  private askAgainForLongerInterval(response: IncomingResponse): boolean {
    if (statusOf(response) !== 422 || !this.retarget || this.hangupRequested || this.intervalRetries >= maxIntervalRetries) return false;
    const previous = this.current as Inviter;
    const sessionInterval = intervalAfter422(askedSessionInterval(previous.request), parseMinSe(response.message.getHeader('min-se')));
    if (!sessionInterval) return false;
    let next: Inviter;
    try {
      next = this.retarget(previous.request.ruri.toString(), previous, { sessionInterval });
    } catch {
      return false;
    }
    this.intervalRetries++;
    this.sendOn(next);
    return true;
  }

  /** The call goes on with another INVITE (a redirection, a longer session interval): its session replaces the last. */
  private sendOn(next: Inviter): void {
    // the 3xx or 422 is not the call's answer: the next INVITE's will be (redirects keep the 3xx)
    this.finalStatus = undefined;
    this.finalReason = undefined;
    this.following = true;
    this.attach(next);
    this.earlyMedia = false; // the next INVITE brings its own early media, if any
    this.state = 'calling';
    this.emit();
  }

  /**
   * RFC 3261 §8.1.3.4: the Contacts of a 3xx join the target set, and the call goes on to the next target in it (the
   * session is swapped at once, in sip.js's own turn, so the ended one never ends the call). False when it does not.
   */
  private followRedirect(response: IncomingResponse): boolean {
    const status = statusOf(response);
    if (!this.retarget || this.hangupRequested || status < 300) return false;
    if (status < 400) {
      for (const target of redirectTargets(response.message.getHeaders('contact'))) {
        const key = targetKey(target);
        if (this.tried.has(key)) continue;
        this.tried.add(key);
        this.targets.push(target);
      }
    }
    while (this.redirects.length < maxRedirections) {
      const target = this.targets.shift();
      if (target === undefined) return false;
      let next: Inviter;
      try {
        next = this.retarget(target, this.current as Inviter);
      } catch {
        continue; // a target sip.js cannot address is skipped like one that failed
      }
      this.redirects.push({ status, ...(response.message.reasonPhrase ? { reason: response.message.reasonPhrase } : {}), target });
      this.sendOn(next);
      return true;
    }
    return false;
  }

  /** Answer an incoming call (200 OK with our SDP answer). */
  async answer(): Promise<void> {
    if (!(this.session instanceof Invitation) || this.state !== 'incoming') {
      throw new SipCallError('INVALID_STATE', `cannot answer a call in state ${this.state}`);
    }
    // RFC 4028 §9: the 2xx says the session timer the INVITE asked for, and who refreshes
    const headers = this.sessionTimer.answerHeaders;
    await this.session.accept(headers ? { extraHeaders: headers } : undefined);
    this.reliable?.onFinalResponse();
    this.finalStatus = 200;
    this.finalReason = 'OK';
  }

  /**
   * Send 180 Ringing for an incoming call: reliably when the caller requires it (RFC 3262 §3). An INVITE without an
   * offer gets none then: its first reliable 18x would have to carry our offer (§5), which is the 2xx's to make.
   */
  async ring(): Promise<void> {
    if (!(this.session instanceof Invitation) || this.state !== 'incoming') return;
    if (!this.reliable) {
      await this.session.progress();
      this.answerStrayPrack(); // an unreliable 18x is never PRACKed: sip.js would answer one 200 (RFC 3262 §3: 481)
      return;
    }
    if (this.session.body) await this.reliable.send(180);
  }

  /** RFC 3262 §3: the reliable 18x went unacknowledged for 64·T1, so the INVITE is refused with a 5xx. */
  private giveUpUnacknowledged(): void {
    if (!(this.session instanceof Invitation) || this.state !== 'incoming') return;
    this.endedBy = 'network';
    this.finalStatus = 504;
    this.finalReason = 'Server Time-out (no PRACK)';
    this.session.reject({ statusCode: 504, reasonPhrase: this.finalReason }).catch((error: Error) => {
      this.finalReason = `${this.finalReason ?? ''}; the 504 could not be sent: ${error.message}`;
      this.emit();
    });
  }

  async reject(status = 486, reason?: string, extraHeaders?: string[]): Promise<void> {
    if (!(this.session instanceof Invitation) || this.state !== 'incoming') {
      throw new SipCallError('INVALID_STATE', `cannot reject a call in state ${this.state}`);
    }
    if (status < 300 || status > 699) throw new SipCallError('INVALID_STATE', `reject status ${status} is not a failure status`);
    this.endedBy = 'local';
    this.finalStatus = status;
    this.reliable?.dispose();
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
    this.hangupRequested = true;
    this.endedBy ??= 'local';
    const session = this.session;
    if (session.state === SessionState.Established) {
      let answered!: () => void;
      this.byeAnswered = new Promise((resolve) => (answered = resolve));
      // sip.js ends the session as the BYE leaves (RFC 3261 §15); its answer comes later, a 408 or 503 of sip.js's own
      // when none does, and an identity going away waits for it (SipIdentity.dispose, which also bounds the wait)
      try {
        await session.bye({ requestDelegate: { onAccept: () => answered(), onReject: () => answered(), onRedirect: () => answered() } });
      } catch (error) {
        answered(); // sip.js throws, even synchronously, when the dialog cannot take a BYE: none left
        throw error;
      }
    } else if (session instanceof Inviter) {
      await session.cancel();
    } else if (session instanceof Invitation) {
      this.finalStatus = rejectStatus;
      await session.reject({ statusCode: rejectStatus });
    }
  }

  /**
   * A session refresh (RFC 4028 §10, dialog-session-timer.ts): a re-INVITE, queued behind any re-INVITE of ours (a
   * user's hold on its way), offering the hold state as it is when it goes out; status 0 when it could not be sent.
   */
  private async refreshSession(): Promise<ReinviteResult> {
    try {
      return await this.queued(() => this.reinviteRetrying(() => this.localHold));
    } catch {
      return { status: 0 }; // sip.js could not send it: tried again while the session lasts (dialog-session-timer.ts)
    }
  }

  /**
   * The phone ends an answered call by itself, its far end or the path to it gone (no media, no session refresh): a
   * BYE, `endedBy: network`, and the cause; a dialog that cannot take the BYE any more is over here all the same.
   */
  endByNetwork(cause: CallEndCause): void {
    if (this.state !== 'established') return;
    this.endCause = cause;
    this.endedBy ??= 'network';
    void this.hangup().catch(() => this.abandonSession());
  }

  /** The dialog cannot take a BYE any more: the call is over here all the same. */
  private abandonSession(): void {
    void Promise.resolve()
      .then(() => this.session.dispose())
      .catch(() => undefined);
    this.markTerminated();
  }

  /**
   * Hold (sendonly offer) or resume (sendrecv) by re-INVITE (RFC 3264 §8.4); resolves with the final status.
   * A glare 491 or a 500 is retried after the wait RFC 3261 §14.1/§14.2 prescribe, for up to `retryWindowMs`.
   */
  async hold(on: boolean, retryWindowMs = 32_000): Promise<number> {
    return (await this.queued(() => this.reinviteRetrying(() => on, retryWindowMs))).status;
  }

  /**
   * Our re-INVITEs (holds, resumes, session refreshes) go out one at a time, in the order asked (RFC 3261 §14.1): a
   * refresh due while the user's hold is on its way must not offer the state from before it.
   */
  private queued<T>(task: () => Promise<T>): Promise<T> {
    const run = this.reinviteChain.then(task);
    this.reinviteChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * One re-INVITE offering `hold()` as it is when it is sent; a glare 491 or a 500 is retried after the wait RFC 3261
   * §14.1/§14.2 prescribe, for up to `retryWindowMs` (the peer refuses while it waits for our ACK, at most 64·T1).
   */
  private async reinviteRetrying(hold: () => boolean, retryWindowMs = 32_000): Promise<ReinviteResult> {
    const giveUpAt = Date.now() + retryWindowMs;
    for (;;) {
      if (this.state !== 'established') throw new SipCallError('INVALID_STATE', `cannot send a re-INVITE (hold, resume or session refresh) in state ${this.state}`);
      await this.inviteTransactionsIdle();
      const result = await this.reinvite(hold());
      if (result.status < 300 || result.retryAfterMs === undefined || Date.now() + result.retryAfterMs > giveUpAt) return result;
      await new Promise((resolve) => setTimeout(resolve, result.retryAfterMs));
    }
  }

  /**
   * RFC 3261 §14.1: a new re-INVITE MUST wait until an ongoing INVITE client transaction is completed and an
   * ongoing INVITE server transaction is confirmed (its ACK arrived): the peer's re-INVITE, or the ACK to our 200
   * for it or for the call's first INVITE (RFC 5407 §3.1.4), may still be on its way. sip.js ended the call with a
   * BYE when that first ACK arrived while our re-INVITE was out (issue 19). Waits at most 64·T1 (the longest an ACK
   * can take), then lets sip.js refuse.
   */
  private async inviteTransactionsIdle(maxWaitMs = 32_000): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    const busy = (): boolean => {
      // The api's Session.dialog is typed as the core interface; the object is the SessionDialog with these fields
      // (ackWait: the callee still waits for the ACK of the first INVITE's 200; private in sip.js's types).
      const dialog = this.session.dialog as SessionDialog | undefined;
      return dialog !== undefined && (dialog.reinviteUserAgentClient !== undefined || dialog.reinviteUserAgentServer !== undefined || (dialog as unknown as { ackWait?: boolean }).ackWait === true);
    };
    while (busy() && this.state === 'established' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private reinvite(hold: boolean): Promise<ReinviteResult> {
    const options = { hold } as Record<string, unknown>;
    const timerHeaders = this.sessionTimer.requestHeaders;
    return new Promise((resolve, reject) => {
      this.session
        .invite({
          sessionDescriptionHandlerOptions: options,
          // RFC 4028 §7.4: a re-INVITE in a dialog with a session timer carries it on (and is itself a refresh)
          ...(timerHeaders.length > 0 ? { requestOptions: { extraHeaders: timerHeaders } } : {}),
          requestDelegate: {
            onAccept: (response) => {
              // a 2xx that comes after the call ended (a peer that was frozen) is ACKed by sip.js and changes nothing
              if (this.state !== 'terminated') {
                this.sessionTimer.reinviteAnswered(response.message);
                this.localHold = hold;
                this.emit();
              }
              resolve({ status: statusOf(response) });
            },
            onReject: (response) => {
              const status = statusOf(response);
              const minSe = status === 422 ? parseMinSe(response.message.getHeader('min-se')) : undefined;
              resolve({ status, ...retryDelay(status, response), ...(minSe !== undefined ? { minSe } : {}) });
            },
          },
        })
        .catch(reject);
    });
  }

  /**
   * An in-dialog INFO (used for `application/dtmf-relay`); resolves with its final status (408 when unanswered, 503 when
   * it could not be sent). Callers send the next one only after this: a peer refuses a request whose CSeq is below
   * one it already took (RFC 3261 §12.2.2: 500), and INFOs in flight together can arrive out of order through a proxy.
   */
  async info(contentType: string, body: string): Promise<number> {
    if (this.state !== 'established') throw new SipCallError('INVALID_STATE', `cannot send INFO in state ${this.state}`);
    return new Promise<number>((resolve, reject) => {
      const final = (response: IncomingResponse) => resolve(statusOf(response));
      this.session
        .info({
          requestDelegate: { onAccept: final, onReject: final },
          requestOptions: { body: { contentDisposition: 'render', contentType, content: body } },
        })
        .catch(reject);
    });
  }

  private onProgress(response: IncomingResponse): void {
    const status = statusOf(response);
    if (status >= 180 && this.state === 'calling') {
      this.state = 'ringing';
      this.emit();
    }
    const sdp = sdpBody(response);
    if (status > 100 && sdp !== undefined) void this.playEarlyMedia(sdp);
  }

  /**
   * RFC 3960 §3 (gateway model): a 18x carrying an answer to our offer starts early media — the peer's ringback,
   * announcement or tones play, and the local ringback stops (§3.2; `earlyMedia` tells the UI). A later 18x with
   * another SDP (an announcement after the ringback) is followed too.
   */
  private async playEarlyMedia(sdp: string): Promise<void> {
    const handler = earlyMediaHandler(this.session.sessionDescriptionHandler);
    if (!handler || handler.appliedAnswer === sdp || (this.state !== 'calling' && this.state !== 'ringing')) return;
    try {
      await handler.applyEarlyAnswer(sdp);
    } catch (error) {
      this.mediaProblem = (error as Error).message;
      this.emit();
      return;
    }
    if (this.state !== 'calling' && this.state !== 'ringing') return;
    this.earlyMedia = true;
    this.emit();
  }

  /**
   * RFC 3261 §13.2.1 has the UAC ignore an SDP in the 2xx once a 18x brought one, but carriers' gateways answer with
   * the media of the callee in the 2xx after a 18x from an announcement server: when the 2xx's SDP differs from the
   * one the media follows, the media follows the 2xx (issue 19 item 5; after forking the 2xx's dialog is the call's,
   * RFC 3960 §3.1).
   */
  private async followFinalAnswer(response: IncomingResponse): Promise<void> {
    const sdp = sdpBody(response);
    const handler = earlyMediaHandler(this.session.sessionDescriptionHandler);
    if (sdp === undefined || !handler || handler.appliedAnswer === undefined || handler.appliedAnswer === sdp) return;
    try {
      await handler.applyAnswer(sdp);
    } catch (error) {
      this.mediaProblem = (error as Error).message;
    }
    this.emit();
  }

  /**
   * A 2xx to our INVITE that makes no dialog (RFC 3261 §12.1.1: it must carry a To tag and a Contact): no ACK or BYE
   * can be sent, and the call is over. It fails as an invalid answer from the far side does (502, §21.5.3), saying why.
   */
  private unusableAnswer(response: IncomingResponse): void {
    const lacking = response.message.toTag ? 'Contact' : 'To tag';
    this.finalStatus = 502;
    this.finalReason = `Bad Gateway (the ${statusOf(response)} answer has no ${lacking}, RFC 3261 §12.1.1)`;
    this.endedBy ??= 'remote';
    if (this.state === 'terminated') this.emit();
  }

  /** sip.js may end the session before or after it hands us the final response; either way listeners see both. */
  private recordFinal(response: IncomingResponse): void {
    this.finalStatus = statusOf(response);
    this.finalReason = response.message.reasonPhrase;
    if (this.finalStatus < 300) {
      // RFC 4028 §7.2: the 2xx says whether the session has a timer (a proxy may have asked for one) and who refreshes
      this.sessionTimer.inviteAnswered(response.message, (this.current as Inviter).request);
    }
    if (this.state === 'terminated') this.emit();
  }

  /**
   * sip.js threw inside this call (at one of its timers, or taking one of its messages) and the guard caught it: end
   * the call as cleanly as its state still allows — BYE, CANCEL, or 500 to an INVITE not yet answered (RFC 3261
   * §21.5.1) — and whatever the stack can still send, the call is over here: media closed, state terminated.
   */
  endAfterFault(reason: string): void {
    if (this.state === 'terminated') return;
    this.fault ??= reason;
    this.endedBy ??= 'local';
    let goodbye: Promise<void>;
    try {
      goodbye = this.session instanceof Invitation && this.state === 'incoming' ? this.reject(500, 'Server Internal Error') : this.hangup();
    } catch (error) {
      goodbye = Promise.reject(error as Error);
    }
    void goodbye.catch(() => undefined); // the stack may be too broken to say goodbye; the call still ends below
    // the fault was counted by the caller; the call is abandoned whatever dispose does
    if (!this.isTerminated()) this.abandonSession();
  }

  /** Read afresh: a call's state changes under any call into sip.js. */
  private isTerminated(): boolean {
    return this.state === 'terminated';
  }

  /**
   * The identity is going away (its UserAgent stops): a call sip.js still holds open — a callee's hang-up waiting
   * for the ACK it may never get — ends here, so nothing above waits for it.
   */
  abandon(): void {
    this.markTerminated();
  }

  private onSessionState(state: SessionState, session: Session): void {
    if (state === SessionState.Established) {
      this.state = 'established';
      this.sessionTimer.start();
      this.earlyMedia = false;
      this.answerStrayPrack();
      this.takeUpdates();
      this.answeredAt = Date.now();
      this.finalStatus ??= 200;
      this.emit();
    } else if (state === SessionState.Terminated && this.state !== 'terminated') {
      if (this.retarget && this.answeredAt === undefined) {
        // sip.js ends an Inviter before it hands over the 3xx (or failure) that may send the call on to another
        // target: the end waits for that decision, which comes in this same turn (followRedirect swaps the session).
        queueMicrotask(() => {
          if (this.current === session && !this.following) this.markTerminated();
        });
        return;
      }
      this.markTerminated();
    }
  }

  private markTerminated(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.sessionTimer.end();
    this.endedAt = Date.now();
    this.earlyMedia = false;
    this.reliable?.dispose();
    this.endedBy ??= 'network';
    this.emit();
    this.resolveEnded();
  }

  /**
   * RFC 3262 §3: a PRACK that matches no unacknowledged reliable 18x gets 481. sip.js throws on a PRACK in a confirmed
   * dialog (its Session.onPrackRequest is unimplemented), leaving the peer to retransmit it; reliable-provisional.ts
   * puts its own handler on top of this one when the call has reliable 18x of ours to acknowledge.
   */
  private answerStrayPrack(): void {
    const dialog = this.session.dialog as SessionDialog | undefined;
    if (!dialog) return;
    dialog.delegate = { ...dialog.delegate, onPrack: (request) => request.reject({ statusCode: 481, reasonPhrase: 'Call/Transaction Does Not Exist' }) };
  }

  /**
   * The answered call takes UPDATE (RFC 3311; tools/postinstall/sipjs-update.js hands it to the dialog's delegate) as a
   * session refresh (dialog-session-timer.ts), its 2xx carrying the Contact sip.js gives our re-INVITEs and their 2xx.
   */
  private takeUpdates(): void {
    const dialog = this.session.dialog as SessionDialog | undefined;
    const contact = (this.session as unknown as { _contact?: string })._contact;
    if (!dialog || contact === undefined) return;
    const onUpdate = (request: IncomingRequest): void => this.sessionTimer.answerUpdate(request, contact);
    dialog.delegate = { ...dialog.delegate, onUpdate } as SessionDialog['delegate'];
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

/** The SDP a response carries, if any. */
function sdpBody(response: IncomingResponse): string | undefined {
  const type = response.message.getHeader('content-type')?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/sdp' && response.message.body ? response.message.body : undefined;
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
  const retryAfter = retryAfterSeconds(response.message.getHeader('retry-after'));
  if (retryAfter !== undefined && retryAfter <= 10) return { retryAfterMs: retryAfter * 1000 };
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
