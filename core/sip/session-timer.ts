/**
 * Session timers (RFC 4028): a call's dialog is refreshed by a re-INVITE every half interval by the side the 2xx names
 * as refresher, and the other side ends a call whose refresh never came (a proxy, a carrier or the peer lost it). The
 * phone says `Supported: timer` (sip-identity.ts) and asks for no timer itself, as Linphone and baresip do; a caller, a
 * carrier or a proxy on the way that asks for one gets it (§9), and a 2xx that names one is followed (§7.2).
 */

/** §4/§5: the smallest session interval, and our Min-SE. */
export const defaultMinSessionExpires = 90;
/** A 2xx may name less than any Min-SE: the timer is never armed tighter than this (a refresh every second would spin). */
const shortestIntervalSeconds = 2;

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
 * refresher the request named; when it named none, the sender refreshes if it supports the timer, else we do. A
 * refresher=uac 2xx requires the timer (§9: `Require: timer`), so the sender knows it is to refresh.
 */
export function uasSessionTimer(request: RefreshRequest, minSessionExpires = defaultMinSessionExpires): UasSessionTimer {
  const asked = parseSessionExpires(request.sessionExpires);
  if (!asked) return { kind: 'none' };
  const floor = Math.max(minSessionExpires, parseMinSe(request.minSe) ?? 0);
  let interval = asked.seconds;
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
 * one) leaves the refreshing to us, as the side that can always do it.
 */
export function uacSessionTimer(sessionExpires: string | undefined): { interval: number; weRefresh: boolean } | undefined {
  const named = parseSessionExpires(sessionExpires);
  if (!named) return undefined;
  return { interval: named.seconds, weRefresh: (named.refresher ?? 'uac') === 'uac' };
}

/**
 * §7.4: our own re-INVITE (a hold, a resume, a refresh) in a dialog with a timer carries it on: the same interval, and
 * the refresher as it stands — `uac` (the sender of this request) when we refresh, `uas` when the peer does.
 */
export function refreshRequestHeaders(timer: { interval: number; weRefresh: boolean }): string[] {
  return [`Session-Expires: ${timer.interval};refresher=${timer.weRefresh ? 'uac' : 'uas'}`];
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
 * sent or received, and any re-INVITE answered 2xx — starts it again with what that 2xx said.
 */
export class SessionTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: { interval: number; weRefresh: boolean } | undefined;

  constructor(private readonly actions: SessionTimerActions) {}

  /** The interval and role now, or undefined when the session has no timer. */
  get state(): { interval: number; weRefresh: boolean } | undefined {
    return this.current;
  }

  start(interval: number, weRefresh: boolean): void {
    this.stop();
    this.current = { interval, weRefresh };
    const seconds = Math.max(shortestIntervalSeconds, interval);
    const delay = weRefresh ? seconds / 2 : seconds - Math.min(32, seconds / 3);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (weRefresh) this.actions.refresh();
      else this.actions.expire();
    }, delay * 1000);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.current = undefined;
  }
}
