import type { Endpoint } from './endpoint.js';

/** RFC 3261 §17.1.1.1 timer values. */
export interface SipTimerValues {
  t1: number;
  t2: number;
  /**
   * Seconds: our Min-SE, the shortest session interval we take (RFC 4028 §4-5: 90 s, the default). Tests shorten it,
   * as they shorten T1 and T2, to see a session timer run.
   */
  minSessionExpires?: number;
}

export const defaultSipTimers: SipTimerValues = { t1: 500, t2: 4000 };

type Kind = 'invite-client' | 'non-invite-client' | 'invite-server-final';

interface Pending {
  kind: Kind;
  raw: string;
  remote: Endpoint;
  interval: number;
  timer: NodeJS.Timeout;
  deadline: number;
}

/** A message kept to answer a retransmission with, until it expires. */
interface Kept {
  raw: string;
  remote: Endpoint;
  until: number;
}

/**
 * The reliability RFC 3261 §17 requires over UDP, for an element whose transaction layer assumes a reliable
 * transport (sip.js 0.21 implements no Timer A, E or G, and sets Timers D, I, J and K to zero):
 * - Timer A: an INVITE is resent at T1, 2·T1, 4·T1 … until any response arrives (§17.1.1.2);
 * - Timer E: a non-INVITE request is resent at T1 doubling up to T2, and every T2 after a provisional response,
 *   until a final response (§17.1.2.2);
 * - Timer G: a non-2xx final response to an INVITE is resent at T1 doubling up to T2 until the ACK (§17.2.1).
 * Each gives up after 64·T1 (Timers B, F, H), leaving the timeout itself to the transaction layer. And, for the
 * 64·T1 that Timers D and J would last, the retransmissions that arrive after sip.js ended its transaction are
 * absorbed here: a repeated non-2xx final response gets our ACK again (§17.1.1.2), a repeated non-INVITE request
 * gets our final response again (§17.2.2) instead of a 481 from a dialog that is already gone.
 */
export class UdpRetransmitter {
  private readonly pending = new Map<string, Pending>();
  /** ACKs we sent for non-2xx finals, by INVITE branch. */
  private readonly acks = new KeptMessages(maxKeptChars);
  /** Final responses we sent to non-INVITE requests, by branch and method. */
  private readonly finals = new KeptMessages(maxKeptChars);
  /** Branches of INVITEs we sent, with when, until their final response: only their failures are ours to ACK. */
  private readonly invitesSent = new Map<string, number>();
  /** INVITE branches of ours whose final response was a failure (their ACK reuses the branch), until when. */
  private readonly ackable = new Map<string, number>();
  retransmissions = 0;

  constructor(
    private readonly resend: (raw: string, remote: Endpoint) => void,
    private readonly timers: SipTimerValues = defaultSipTimers,
  ) {}

  /**
   * A request just went out. ACKs are never retransmitted by the transport (§17.1.1.3), but one that shares its
   * INVITE's branch acknowledges a non-2xx final (§17.1.1.3) and is kept to answer that final's retransmissions.
   */
  requestSent(method: string, branch: string, raw: string, remote: Endpoint): void {
    if (method === 'ACK') {
      if ((this.ackable.get(branch) ?? 0) > Date.now()) this.acks.keep(branch, raw, remote, Date.now() + 64 * this.timers.t1);
      return;
    }
    if (method === 'INVITE') this.rememberInvite(branch);
    this.start(key(branch, method), method === 'INVITE' ? 'invite-client' : 'non-invite-client', raw, remote);
  }

  /**
   * A response came in for one of our requests. Returns false when it is a retransmission this layer answered
   * itself (it must not reach the transaction layer again).
   */
  responseReceived(branch: string, cseqMethod: string, status: number): boolean {
    if (cseqMethod === 'INVITE' && status >= 300) {
      const ack = this.acks.fresh(branch);
      if (ack) {
        this.retransmissions++;
        this.resend(ack.raw, ack.remote);
        return false;
      }
      // A failure to an INVITE we never sent (forged, or long forgotten) leaves nothing behind: sip.js drops it.
      if (this.invitesSent.delete(branch)) this.markAckable(branch);
    } else if (cseqMethod === 'INVITE' && status >= 200) {
      this.invitesSent.delete(branch);
    }
    const id = key(branch, cseqMethod);
    const entry = this.pending.get(id);
    if (!entry) return true;
    if (entry.kind === 'invite-client' || status >= 200) {
      this.stop(id);
    } else if (entry.kind === 'non-invite-client') {
      entry.interval = this.timers.t2; // §17.1.2.2: after a provisional response, retransmit every T2
    }
    return true;
  }

  /**
   * A response went out. A non-2xx final to an INVITE starts Timer G (a 2xx is retransmitted by the dialog); a final
   * response to anything else is kept for Timer J's 64·T1 to answer the request's retransmissions.
   */
  responseSent(branch: string, cseqMethod: string, status: number, raw: string, remote: Endpoint): void {
    if (cseqMethod === 'INVITE') {
      if (status >= 300) this.start(key(branch, 'ACK-WAIT'), 'invite-server-final', raw, remote);
      return;
    }
    if (status >= 200) this.finals.keep(key(branch, cseqMethod), raw, remote, Date.now() + 64 * this.timers.t1);
  }

  /** Whether requestReceived would answer this request again (a non-INVITE whose final response is still kept). */
  hasAnswered(method: string, branch: string): boolean {
    return method !== 'INVITE' && method !== 'ACK' && this.finals.fresh(key(branch, method)) !== undefined;
  }

  /**
   * A request came in: an ACK with the INVITE's branch ends Timer G (§17.2.1); a repeated non-INVITE request we
   * already answered gets the same answer again. Returns false when the request must not reach sip.js.
   */
  requestReceived(method: string, branch: string): boolean {
    if (method === 'ACK') {
      this.stop(key(branch, 'ACK-WAIT'));
      return true;
    }
    const final = method === 'INVITE' ? undefined : this.finals.fresh(key(branch, method));
    if (!final) return true;
    this.retransmissions++;
    this.resend(final.raw, final.remote);
    return false;
  }

  /**
   * An INVITE transaction of ours may last as long as the callee rings (its final response comes when it comes,
   * §17.1.1.2), so its branch is kept until that response; one never answered is let go after `inviteMemoryMs`.
   */
  private rememberInvite(branch: string): void {
    const now = Date.now();
    this.invitesSent.set(branch, now);
    if (this.invitesSent.size <= 1024) return;
    // every branch is new, so the map is in the order they were sent: the old ones are at its front
    for (const [b, at] of this.invitesSent) {
      if (now - at <= inviteMemoryMs) break;
      this.invitesSent.delete(b);
    }
  }

  private markAckable(branch: string): void {
    const now = Date.now();
    this.ackable.set(branch, now + 64 * this.timers.t1);
    if (this.ackable.size > 256) for (const [b, until] of this.ackable) if (until <= now) this.ackable.delete(b);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Everything held: retransmissions going on, answers and ACKs kept, our INVITEs' branches. */
  get held(): number {
    return this.pending.size + this.acks.size + this.finals.size + this.invitesSent.size + this.ackable.size;
  }

  dispose(): void {
    for (const id of [...this.pending.keys()]) this.stop(id);
    this.acks.clear();
    this.finals.clear();
    this.ackable.clear();
    this.invitesSent.clear();
  }

  private start(id: string, kind: Kind, raw: string, remote: Endpoint): void {
    this.stop(id);
    if (kind === 'invite-server-final' && this.pending.size >= maxPending) {
      // Timer G for a flood of rejected INVITEs: the oldest failure stops being resent, rather than the phone holding
      // every one, up to 64 KB each, for 64·T1.
      for (const [oldest, entry] of this.pending) {
        if (entry.kind !== 'invite-server-final') continue;
        this.stop(oldest);
        break;
      }
    }
    const interval = this.timers.t1;
    const entry: Pending = {
      kind,
      raw,
      remote,
      interval,
      deadline: Date.now() + 64 * this.timers.t1,
      timer: setTimeout(() => this.fire(id), interval),
    };
    entry.timer.unref?.();
    this.pending.set(id, entry);
  }

  private fire(id: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    if (Date.now() >= entry.deadline) {
      this.pending.delete(id);
      return;
    }
    this.retransmissions++;
    this.resend(entry.raw, entry.remote);
    entry.interval = entry.kind === 'invite-client' ? entry.interval * 2 : Math.min(entry.interval * 2, this.timers.t2);
    // Wake at the deadline at the latest, so the entry is gone when Timer B/F/H fires.
    entry.timer = setTimeout(() => this.fire(id), Math.min(entry.interval, entry.deadline - Date.now()));
    entry.timer.unref?.();
  }

  private stop(id: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(id);
  }
}

/** How long the branch of an INVITE never answered is kept (a call rings for minutes at most: sip.js's 120 s here). */
const inviteMemoryMs = 10 * 60_000;

/** Retransmissions going on at once, beyond which Timer G gives way (each holds a response of up to 64 KB). */
const maxPending = 1024;
/** Characters of the answers (or of the ACKs) kept for retransmissions: about 20,000 answers to BYE, 64·T1 of 300 calls/s. */
const maxKeptChars = 8 * 1024 * 1024;

/**
 * Messages kept to answer retransmissions with, each until its time is up. Bounded in characters as well as in time: a
 * peer that sends many requests with long Via lists (copied into each answer) held memory for 32 s each, without limit;
 * past `maxChars` the oldest kept go first (a retransmission of theirs then reaches sip.js, which answers it itself).
 */
class KeptMessages {
  private readonly byId = new Map<string, Kept>();
  private chars = 0;

  constructor(private readonly maxChars: number) {}

  keep(id: string, raw: string, remote: Endpoint, until: number): void {
    this.drop(id); // kept again: it moves to the newest end
    this.byId.set(id, { raw, remote, until });
    this.chars += raw.length;
    const now = Date.now();
    if (this.byId.size > 256) for (const [k, v] of this.byId) if (v.until <= now) this.drop(k, v);
    for (const [k, v] of this.byId) {
      if (this.chars <= this.maxChars) break;
      this.drop(k, v);
    }
  }

  /** What is kept under `id`, while its time lasts. */
  fresh(id: string): Kept | undefined {
    const kept = this.byId.get(id);
    if (kept && kept.until > Date.now()) return kept;
    this.drop(id, kept);
    return undefined;
  }

  get size(): number {
    return this.byId.size;
  }

  clear(): void {
    this.byId.clear();
    this.chars = 0;
  }

  private drop(id: string, kept = this.byId.get(id)): void {
    if (!kept) return;
    this.byId.delete(id);
    this.chars -= kept.raw.length;
  }
}

function key(branch: string, method: string): string {
  return `${branch}|${method}`;
}
