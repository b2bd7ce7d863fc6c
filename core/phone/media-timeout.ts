/**
 * Ends a call whose far end has gone quiet on the network: no RTP and no RTCP from it for `seconds` while audio is to
 * flow both ways, or for `heldSeconds` while the call is on hold (either side's). Linphone's nortp-timeout (30 s) and
 * nortp-onhold-timeout (3600 s) are the defaults. A peer that vanished — its host died, its network went, the server
 * that carried the call failed over and took it along — otherwise leaves a call that never ends: the user is charged
 * for it and hears nothing, and a failed-over account keeps the identities that carried it (account-failover.ts).
 * A held peer sends only RTCP (every 5 s, RFC 3550 §6.2): a held limit much below 30 s ends holds whose peer is there.
 */
import type { AccountConfig } from '../api/phone-types.js';

/** Linphone's nortp-timeout and nortp-onhold-timeout. */
export const defaultMediaTimeout = { seconds: 30, heldSeconds: 3600 } as const;
/** The longest limit an account may set (a day); 0 turns one off. */
export const mediaTimeoutMaxSeconds = 86_400;

/** How often calls are looked at: a call ends at most this much after its limit. */
const checkEveryMs = 1000;

/** What the timeout reads of a call's media (MediaSession): the peer's signs of life, and whether it is on hold. */
export interface WatchedMedia {
  readonly lifeSigns: number;
  readonly duplex: boolean;
}

/** The account's limits, 0 turning one off. */
export function mediaTimeoutOf(config: AccountConfig): { seconds: number; heldSeconds: number } {
  return { seconds: config.mediaTimeout?.seconds ?? defaultMediaTimeout.seconds, heldSeconds: config.mediaTimeout?.heldSeconds ?? defaultMediaTimeout.heldSeconds };
}

interface Watched {
  /** The call's media now (a 3xx followed brings new media; none before the offer). */
  media: () => WatchedMedia | undefined;
  /** The media the signs were counted on. */
  seen: WatchedMedia | undefined;
  limits: { seconds: number; heldSeconds: number };
  /** Whether the call is answered: before, nothing is due (a ringing call has its own end, the caller's timer). */
  answered: () => boolean;
  /** End the call, after `seconds` of silence. */
  end: (seconds: number) => void;
  signs: number;
  /** When the peer was last seen (or the call was answered, or went on or off hold). */
  since: number;
  duplex: boolean;
}

export class MediaTimeout {
  private readonly watched = new Map<string, Watched>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Watch a call's media until `forget`; `end` is called once, when the peer has been quiet too long. */
  watch(callId: string, media: () => WatchedMedia | undefined, limits: { seconds: number; heldSeconds: number }, answered: () => boolean, end: (seconds: number) => void): void {
    if (limits.seconds <= 0 && limits.heldSeconds <= 0) return;
    this.watched.set(callId, { media, seen: undefined, limits, answered, end, signs: 0, since: this.now(), duplex: false });
    this.timer ??= setInterval(() => this.check(), checkEveryMs);
    this.timer.unref?.();
  }

  forget(callId: string): void {
    this.watched.delete(callId);
    if (this.watched.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at every call (exported for tests that drive the clock). */
  check(): void {
    const now = this.now();
    for (const [callId, call] of this.watched) {
      const media = call.media();
      const signs = media?.lifeSigns ?? 0;
      const duplex = media?.duplex ?? false;
      // a sign of life, new media, a call not yet answered, or a hold begun or ended: the peer gets a whole new window
      if (media === undefined || media !== call.seen || signs !== call.signs || duplex !== call.duplex || !call.answered()) {
        call.seen = media;
        call.signs = signs;
        call.duplex = duplex;
        call.since = now;
        continue;
      }
      const limit = duplex ? call.limits.seconds : call.limits.heldSeconds;
      if (limit <= 0 || now - call.since < limit * 1000) continue;
      this.forget(callId);
      call.end(limit);
    }
  }
}
