import type { Endpoint } from './endpoint.js';

/** RFC 3261 §17.1.1.1 timer values. */
export interface SipTimerValues {
  t1: number;
  t2: number;
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

/**
 * The retransmissions RFC 3261 §17 requires over UDP, for an element whose transaction layer assumes a
 * reliable transport (sip.js 0.21 implements no Timer A, E or G):
 * - Timer A: an INVITE is resent at T1, 2·T1, 4·T1 … until any response arrives (§17.1.1.2);
 * - Timer E: a non-INVITE request is resent at T1 doubling up to T2, and every T2 after a provisional response,
 *   until a final response (§17.1.2.2);
 * - Timer G: a non-2xx final response to an INVITE is resent at T1 doubling up to T2 until the ACK (§17.2.1).
 * Each gives up after 64·T1 (Timers B, F, H), leaving the timeout itself to the transaction layer.
 */
export class UdpRetransmitter {
  private readonly pending = new Map<string, Pending>();
  retransmissions = 0;

  constructor(
    private readonly resend: (raw: string, remote: Endpoint) => void,
    private readonly timers: SipTimerValues = defaultSipTimers,
  ) {}

  /** A request just went out. ACKs are never retransmitted by the transport (§17.1.1.3). */
  requestSent(method: string, branch: string, raw: string, remote: Endpoint): void {
    if (method === 'ACK') return;
    this.start(key(branch, method), method === 'INVITE' ? 'invite-client' : 'non-invite-client', raw, remote);
  }

  /** A response came in for one of our requests. */
  responseReceived(branch: string, cseqMethod: string, status: number): void {
    const id = key(branch, cseqMethod);
    const entry = this.pending.get(id);
    if (!entry) return;
    if (entry.kind === 'invite-client' || status >= 200) {
      this.stop(id);
    } else if (entry.kind === 'non-invite-client') {
      entry.interval = this.timers.t2; // §17.1.2.2: after a provisional response, retransmit every T2
    }
  }

  /** A response went out; only non-2xx finals to INVITE need Timer G (the 2xx is retransmitted by the dialog). */
  responseSent(branch: string, cseqMethod: string, status: number, raw: string, remote: Endpoint): void {
    if (cseqMethod !== 'INVITE' || status < 300) return;
    this.start(key(branch, 'ACK-WAIT'), 'invite-server-final', raw, remote);
  }

  /** A request came in: an ACK with the INVITE's branch ends Timer G (§17.2.1). */
  requestReceived(method: string, branch: string): void {
    if (method === 'ACK') this.stop(key(branch, 'ACK-WAIT'));
  }

  get size(): number {
    return this.pending.size;
  }

  dispose(): void {
    for (const id of [...this.pending.keys()]) this.stop(id);
  }

  private start(id: string, kind: Kind, raw: string, remote: Endpoint): void {
    this.stop(id);
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

function key(branch: string, method: string): string {
  return `${branch}|${method}`;
}
