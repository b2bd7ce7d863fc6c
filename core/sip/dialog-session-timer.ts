/**
 * One INVITE dialog's session timer (RFC 4028), wired to the dialog: the timer its first 2xx sets (§9 ours as the
 * callee, §7.2 the peer's as the caller), the peer's refreshes (§9), ours (§10) and the session's expiry. The rules
 * and the clock are session-timer.ts's; SipCall sends the re-INVITEs and ends the call.
 */

import type { Session } from 'sip.js';
import type { IncomingRequest } from 'sip.js/lib/core/messages/incoming-request.js';
import type { IncomingInviteRequest } from 'sip.js/lib/core/messages/methods/invite.js';
import { defaultMinSessionExpires, parseMinSe, refreshRequestHeaders, refreshRequestOf, sessionExpiresOf, SessionTimer, uacSessionTimer, uasSessionTimer, type HeaderReader, type UasSessionTimer } from './session-timer.js';

/** What the session timer needs of its call. */
export interface RefreshedDialog {
  /** The call is answered and not over (read afresh: a refresh's answer may come after the call ended). */
  established(): boolean;
  /**
   * Send one session refresh (a re-INVITE, after any of ours already on its way): its final status, 0 when it could
   * not be sent, and a 422's Min-SE.
   */
  refresh(): Promise<{ status: number; minSe?: number }>;
  /** No refresh came in time, or ours found the session gone: end the call (§10). */
  expire(): void;
}

export class DialogSessionTimer {
  private readonly timer = new SessionTimer({ refresh: () => void this.refresh(), expire: () => this.dialog.expire() });
  /** Incoming: the timer our 2xx takes on, as the INVITE asked (none, too small for us, or on). */
  private asked: UasSessionTimer = { kind: 'none' };
  /** Outgoing: the timer the 2xx named, started once the call is established. */
  private answered: { interval: number; weRefresh: boolean } | undefined;
  private ended = false;
  /**
   * The largest Min-SE seen in the dialog (§7.4): in our INVITE, in the peer's INVITE and refreshes, in a 422 to ours;
   * 0 for none. Our refreshes carry it, or our own when larger, so no peer answers them below what anyone on the path
   * takes.
   */
  private minSe = 0;

  /** `minSessionExpires`: our Min-SE in seconds (RFC 4028 §5; 90 by default), the least interval a 2xx may set. */
  constructor(
    private readonly dialog: RefreshedDialog,
    private readonly minSessionExpires?: number,
  ) {}

  /** The interval in seconds and whether we refresh; undefined without a timer. */
  get state(): { interval: number; weRefresh: boolean } | undefined {
    return this.timer.state;
  }

  /** Incoming: what the INVITE asks of the timer decides our 2xx (§9). */
  inviteReceived(request: HeaderReader): void {
    this.asked = uasSessionTimer(refreshRequestOf(request), this.minSessionExpires);
    this.noteMinSe(request);
  }

  /** Incoming: the INVITE asked for less than our Min-SE and supports the timer: refused 422 before it rings (§9). */
  get refusal(): { status: 422; reason: string; headers: string[] } | undefined {
    return this.asked.kind === 'too-small' ? { status: 422, reason: 'Session Interval Too Small', headers: [`Min-SE: ${this.asked.minSe}`] } : undefined;
  }

  /** Incoming: the headers of our 2xx, saying the timer and who refreshes (§9). */
  get answerHeaders(): string[] | undefined {
    return this.asked.kind === 'on' ? this.asked.headers : undefined;
  }

  /**
   * Outgoing: the 2xx to our INVITE (`request`) says whether the session has a timer (a proxy may have asked for one,
   * §7.2); the Min-SE the INVITE carried goes on in our refreshes (§7.4).
   */
  inviteAnswered(response: Pick<HeaderReader, 'getHeader'>, request?: Pick<HeaderReader, 'getHeader'>): void {
    if (request) this.noteMinSe(request);
    this.answered = uacSessionTimer(sessionExpiresOf(response), this.minSessionExpires);
    if (this.dialog.established()) this.start();
  }

  /** The call is answered: the timer its 2xx set starts. */
  start(): void {
    if (this.asked.kind === 'on') this.follow({ interval: this.asked.interval, weRefresh: this.asked.refresher === 'uas' });
    else this.follow(this.answered);
  }

  /**
   * §7.4: the headers our re-INVITE (a hold, a resume, a refresh) carries the timer on with, and the Min-SE our INVITE
   * or a 422 set; none without a timer.
   */
  get requestHeaders(): string[] {
    const state = this.timer.state;
    if (!state) return [];
    const minSe = Math.max(this.minSe, this.minSessionExpires ?? defaultMinSessionExpires);
    // §4: never an interval below the Min-SE it goes with (one learnt from a request that set no timer may be larger)
    return [...refreshRequestHeaders({ ...state, interval: Math.max(state.interval, minSe) }), `Min-SE: ${minSe}`];
  }

  /** Our re-INVITE's 2xx starts the timer again as it says; one without Session-Expires turns it off (§7.2). */
  reinviteAnswered(response: Pick<HeaderReader, 'getHeader'>): void {
    this.follow(uacSessionTimer(sessionExpiresOf(response), this.minSessionExpires));
  }

  /**
   * The peer's re-INVITEs are session refresh requests (§9): one whose interval is below our Min-SE is refused 422 when
   * the peer supports the timer; the 2xx of any other says the timer it takes on, which starts again. `isCurrent`: the
   * session is still the call's (a redirected call has had others).
   */
  takeRefreshes(session: Session, isCurrent: () => boolean): void {
    const sessionWithHandler = session as unknown as { onInviteRequest(request: IncomingInviteRequest): void };
    const handle = sessionWithHandler.onInviteRequest.bind(session);
    sessionWithHandler.onInviteRequest = (request: IncomingInviteRequest): void => {
      const decision = uasSessionTimer(refreshRequestOf(request.message), this.minSessionExpires);
      if (decision.kind === 'too-small') {
        request.reject({ statusCode: 422, reasonPhrase: 'Session Interval Too Small', extraHeaders: [`Min-SE: ${decision.minSe}`] });
        return;
      }
      const accept = request.accept.bind(request);
      request.accept = (options) => {
        const extraHeaders = [...(options?.extraHeaders ?? []), ...(decision.kind === 'on' ? decision.headers : [])];
        const response = accept({ ...options, statusCode: options?.statusCode ?? 200, extraHeaders });
        if ((options?.statusCode ?? 200) < 300 && isCurrent()) {
          this.noteMinSe(request.message);
          this.follow(decision.kind === 'on' ? { interval: decision.interval, weRefresh: decision.refresher === 'uas' } : undefined);
        }
        return response;
      };
      handle(request);
    };
  }

  /**
   * A session refresh by UPDATE (RFC 4028 §7.4, RFC 3311), as some peers send whatever our Allow says: answered as a
   * re-INVITE refresh is (§9: 422 below our Min-SE, else a 2xx with the timer, which starts again). Its 2xx carries our
   * Contact (RFC 3311 §5.2). One with a body would change the session, which we take by re-INVITE only: 488.
   */
  answerUpdate(request: IncomingRequest, contact: string): void {
    if (request.message.body) {
      request.reject({ statusCode: 488, reasonPhrase: 'Not Acceptable Here' });
      return;
    }
    const decision = uasSessionTimer(refreshRequestOf(request.message), this.minSessionExpires);
    if (decision.kind === 'too-small') {
      request.reject({ statusCode: 422, reasonPhrase: 'Session Interval Too Small', extraHeaders: [`Min-SE: ${decision.minSe}`] });
      return;
    }
    request.accept({ statusCode: 200, extraHeaders: [`Contact: ${contact}`, ...(decision.kind === 'on' ? decision.headers : [])] });
    this.noteMinSe(request.message);
    if (this.dialog.established()) this.follow(decision.kind === 'on' ? { interval: decision.interval, weRefresh: decision.refresher === 'uas' } : undefined);
  }

  /** The call is over: no timer from now on. */
  end(): void {
    this.ended = true;
    this.timer.stop();
  }

  private noteMinSe(message: Pick<HeaderReader, 'getHeader'>): void {
    this.minSe = Math.max(this.minSe, parseMinSe(message.getHeader('min-se')) ?? 0);
  }

  private follow(timer: { interval: number; weRefresh: boolean } | undefined): void {
    if (this.ended) return;
    if (timer) this.timer.start(timer.interval, timer.weRefresh);
    else this.timer.stop();
  }

  /**
   * We are the refresher and half the interval has gone (§10). A refresh that times out or finds no dialog (408, 481)
   * ends the call; a 422 is answered at once with its Min-SE (§7.3); after any other failure, or one that could not be
   * sent (a passing local fault), it is tried again before the session would expire, which a failure does not move.
   */
  private async refresh(): Promise<void> {
    if (!this.dialog.established() || !this.timer.state) return;
    const result = await this.dialog.refresh();
    if (!this.dialog.established() || (result.status >= 200 && result.status < 300)) return;
    if (result.status === 408 || result.status === 481) {
      this.dialog.expire();
    } else if (result.status === 422 && result.minSe !== undefined && this.timer.raiseInterval(result.minSe)) {
      this.minSe = Math.max(this.minSe, result.minSe);
      void this.refresh();
    } else {
      this.timer.retryRefresh();
    }
  }
}
