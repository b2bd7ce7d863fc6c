/**
 * Session timers (RFC 4028): a call's dialog is refreshed by a re-INVITE every half interval by the side the 2xx names
 * as refresher, and the other side ends a call whose refresh never came (a proxy, a carrier or the peer lost it). The
 * phone says `Supported: timer` (sip-identity.ts); by default it asks for no timer itself, as Linphone and baresip do,
 * and an account's `sessionExpires` makes its INVITEs ask for one (§7.1), as pjsip's phones do. A caller, a carrier or a
 * proxy on the way that asks for one gets it (§9), and a 2xx that names one is followed (§7.2). A dialog uses them
 * through dialog-session-timer.ts.
 */

import { namesOptionTag } from './reliable-provisional.js';

/** §4/§5: the smallest session interval, and our Min-SE. */
export const defaultMinSessionExpires = 90;
/** The longest session interval an account may ask for (a day). */
export const maxSessionExpires = 86_400;
/** setTimeout's longest delay (ms). */
const longestTimeout = 2 ** 31 - 1;
/** A refresh that failed is tried again after at least this long (seconds). */
const retryFloorSeconds = 1;

export type Refresher = 'uac' | 'uas';

/** A Session-Expires header field (§4): the interval in seconds, and who refreshes when it says. */
export interface SessionExpires {
  seconds: number;
  refresher?: Refresher;
}

/**
 * `Session-Expires = delta-seconds *(SEMI se-params)`, `refresher-param = "refresher" EQUAL ("uas" / "uac")` (§4); other
 * parameters are ignored. Undefined for a value that is not one (a malformed header is as good as none).
 */
export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const [delta, ...params] = value.split(';').map((part) => part.trim());
  if (!/^\d{1,10}$/.test(delta ?? '')) return undefined;
  const seconds = Number(delta);
  if (seconds <= 0) return undefined;
  const result: SessionExpires = { seconds };
  for (const param of params) {
    const match = /^refresher\s*=\s*(uac|uas)$/i.exec(param);
    if (match) result.refresher = match[1]!.toLowerCase() as Refresher;
  }
  return result;
}

/** `Min-SE = delta-seconds *(SEMI generic-param)` (§5); absent or malformed: undefined. */
export function parseMinSe(value: string | undefined): number | undefined {
  const match = /^\s*(\d{1,10})\s*(?:;|$)/.exec(value ?? '');
  return match ? Number(match[1]) : undefined;
}

/** What a session refresh request (the INVITE, or a re-INVITE) asked of us, as its headers say. */
export interface RefreshRequest {
  sessionExpires?: string;
  minSe?: string;
  /** The sender said `Supported: timer` (or required it). */
  supportsTimer: boolean;
}

/** Our answer to a session refresh request (§9): no timer, 422, or the timer and the headers of our 2xx. */
export type UasSessionTimer =
  | { kind: 'none' }
  | { kind: 'too-small'; minSe: number }
  | { kind: 'on'; interval: number; refresher: Refresher; headers: string[] };

/**
 * §9, the UAS: a request without Session-Expires gets no timer (we insert none). One below our minimum is refused 422
 * with our Min-SE when its sender supports the timer; otherwise (a proxy added it: a 422 would only fail the call) the
 * interval is raised to the minimum (erratum 1687). The 2xx repeats the interval (never larger than asked) with the
 * refresher the request named (lowered to a day, which §9 allows, when it asked for more); when it named none, the
 * sender refreshes if it supports the timer, else we do. A
 * refresher=uac 2xx requires the timer (§9: `Require: timer`), so the sender knows it is to refresh.
 */
export function uasSessionTimer(request: RefreshRequest, minSessionExpires = defaultMinSessionExpires): UasSessionTimer {
  const asked = parseSessionExpires(request.sessionExpires);
  if (!asked) return { kind: 'none' };
  const floor = Math.max(minSessionExpires, parseMinSe(request.minSe) ?? 0);
  // §9: the UAS may lower the interval, never below the Min-SE: no session of ours lasts more than a day unrefreshed
  let interval = Math.min(asked.seconds, Math.max(floor, maxSessionExpires));
  if (interval < floor) {
    if (request.supportsTimer) return { kind: 'too-small', minSe: floor };
    interval = floor;
  }
  const refresher: Refresher = asked.refresher ?? (request.supportsTimer ? 'uac' : 'uas');
  // a sender that does not support the timer cannot be made to refresh: we do
  const effective: Refresher = request.supportsTimer ? refresher : 'uas';
  const headers = [`Session-Expires: ${interval};refresher=${effective}`];
  if (effective === 'uac') headers.push('Require: timer');
  return { kind: 'on', interval, refresher: effective, headers };
}

/**
 * §7.2, the UAC: the 2xx to our INVITE or re-INVITE says whether the session has a timer (its Session-Expires) and who
 * refreshes; none means none (§7.2: "there is no session expiration"). A 2xx that forgot the refresher (it MUST name
 * one) leaves the refreshing to us, as the side that can always do it. An interval below our Min-SE (which no 2xx may
 * set, §4) is taken as our Min-SE: a peer must not make us re-INVITE every second.
 */
export function uacSessionTimer(sessionExpires: string | undefined, minSessionExpires = defaultMinSessionExpires): { interval: number; weRefresh: boolean } | undefined {
  const named = parseSessionExpires(sessionExpires);
  if (!named) return undefined;
  return { interval: Math.max(named.seconds, minSessionExpires), weRefresh: (named.refresher ?? 'uac') === 'uac' };
}

/**
 * §7.4: our own re-INVITE (a hold, a resume, a refresh) in a dialog with a timer carries it on: the same interval, and
 * the refresher as it stands — `uac` (the sender of this request) when we refresh, `uas` when the peer does.
 */
export function refreshRequestHeaders(timer: { interval: number; weRefresh: boolean }): string[] {
  return [`Session-Expires: ${timer.interval};refresher=${timer.weRefresh ? 'uac' : 'uas'}`];
}

/**
 * §7.1: the headers of an INVITE that asks for a session timer of `seconds`, never below our Min-SE (§4), and that Min-SE
 * when it is not the default 90 s or a 422 raised it (§7.3: the largest any 422 named). No refresher: the callee chooses
 * (§7.1 leaves it out unless the UAC insists on refreshing).
 */
export function sessionTimerRequestHeaders(seconds: number, minSe = defaultMinSessionExpires): string[] {
  const headers = [`Session-Expires: ${Math.max(seconds, minSe)}`];
  if (minSe !== defaultMinSessionExpires) headers.push(`Min-SE: ${minSe}`);
  return headers;
}

/** The session interval an INVITE of ours asked for (its Session-Expires, and its Min-SE or 0), if it asked for one. */
export function askedSessionInterval(request: Pick<HeaderReader, 'getHeader'>): { seconds: number; minSe: number } | undefined {
  const asked = parseSessionExpires(sessionExpiresOf(request));
  return asked ? { seconds: asked.seconds, minSe: parseMinSe(request.getHeader('min-se')) ?? 0 } : undefined;
}

/**
 * §7.3: after a 422 naming `minSe` to an INVITE that asked for `asked` (or for nothing: a proxy asked for us), the
 * interval the INVITE asks for when sent again: that Min-SE, and the largest Min-SE yet. Undefined when the 422 names
 * none, no more than was asked (it cannot be satisfied by asking again), or more than a day.
 */
export function intervalAfter422(asked: { seconds: number; minSe: number } | undefined, minSe: number | undefined): { seconds: number; minSe: number } | undefined {
  if (minSe === undefined || minSe > maxSessionExpires || minSe <= (asked?.seconds ?? 0)) return undefined;
  return { seconds: minSe, minSe: Math.max(minSe, asked?.minSe ?? 0) };
}

/** Whether a header line is one of the session timer's (long or compact form), to be replaced in a retried INVITE. */
export function isSessionTimerHeader(line: string): boolean {
  return /^\s*(session-expires|x|min-se)\s*:/i.test(line);
}

export interface SessionTimerActions {
  /** Send a session refresh (a re-INVITE): we are the refresher and half the interval has gone by. */
  refresh(): void;
  /** No refresh came from the peer in time: end the call (§10). */
  expire(): void;
}

/**
 * One dialog's timer (§10): the refresher sends its refresh once half the interval has gone by; the other side ends
 * the session when none came, the minimum of 32 s and a third of the interval before it would expire. Every refresh —
 * sent or received, and any re-INVITE answered 2xx — starts it again with what that 2xx said. A refresh that failed
 * does not move the expiry: it is tried again in the time left, and the session ends where the other side would end it.
 */
export class SessionTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** `interval`: what our refreshes ask for; `expiresAt` and `lasts`: the session as the last 2xx set it. */
  private current: { interval: number; weRefresh: boolean; expiresAt: number; lasts: number } | undefined;

  constructor(
    private readonly actions: SessionTimerActions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The interval and role now, or undefined when the session has no timer. */
  get state(): { interval: number; weRefresh: boolean } | undefined {
    return this.current && { interval: this.current.interval, weRefresh: this.current.weRefresh };
  }

  start(interval: number, weRefresh: boolean): void {
    this.stop();
    this.current = { interval, weRefresh, expiresAt: this.now() + interval * 1000, lasts: interval };
    this.arm(weRefresh ? interval / 2 : this.secondsToGiveUp(), weRefresh);
  }

  /** Our refresh failed: try again halfway to the moment the peer would give up on the session; past that, end it. */
  retryRefresh(): void {
    if (!this.current?.weRefresh) return;
    const left = this.secondsToGiveUp();
    if (left <= retryFloorSeconds) {
      this.arm(left, false); // no time for another try: the session ends when the peer would end it
      return;
    }
    this.arm(Math.max(retryFloorSeconds, left / 2), true);
  }

  /**
   * A 422 to our refresh named the Min-SE it takes (§7.3): later refreshes ask for that interval. False when it asks
   * for no more than we did, or for more than a day (a 422 we will not satisfy: the refresh is tried again as after
   * any failure).
   */
  raiseInterval(minSe: number): boolean {
    if (!this.current || minSe <= this.current.interval || minSe > maxSessionExpires) return false;
    this.current.interval = minSe;
    return true;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.current = undefined;
  }

  /** Seconds until the side not refreshing gives up: expiry less the minimum of 32 s and a third of the interval. */
  private secondsToGiveUp(): number {
    const current = this.current!;
    return (current.expiresAt - this.now()) / 1000 - Math.min(32, current.lasts / 3);
  }

  /**
   * Refresh or give up in `seconds`, however far off: a peer's 2xx may name any interval, and a delay past setTimeout's
   * 2^31−1 ms fires at once (it would end the call, or re-INVITE without end), so a long one is waited for in steps,
   * counted down (timers run on a monotonic clock: a wall clock set back does not move them).
   */
  private arm(seconds: number, refresh: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    let left = Math.max(0, seconds) * 1000;
    const wait = (): void => {
      const step = Math.min(left, longestTimeout);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        left -= step;
        if (left > 0) wait();
        else if (refresh) this.actions.refresh();
        else this.actions.expire();
      }, step);
      this.timer.unref?.();
    };
    wait();
  }
}

/** What the readers below need of a message (sip.js's incoming messages have it). */
export interface HeaderReader {
  getHeader(name: string): string | undefined;
  getHeaders(name: string): string[];
}

/** What a session refresh request says of the timer (RFC 4028 §7.1): its Session-Expires, Min-SE and support. */
export function refreshRequestOf(request: HeaderReader): RefreshRequest {
  const sessionExpires = sessionExpiresOf(request);
  const minSe = request.getHeader('min-se');
  const supported = [...request.getHeaders('supported'), ...request.getHeaders('k')]; // k: the compact form (RFC 3261 §7.3.3)
  return {
    ...(sessionExpires !== undefined ? { sessionExpires } : {}),
    ...(minSe !== undefined ? { minSe } : {}),
    supportsTimer: namesOptionTag(supported, 'timer') || namesOptionTag(request.getHeaders('require'), 'timer'),
  };
}

/** A message's Session-Expires, long or compact (`x`, RFC 4028 §4). */
export function sessionExpiresOf(message: Pick<HeaderReader, 'getHeader'>): string | undefined {
  return message.getHeader('session-expires') ?? message.getHeader('x');
}
