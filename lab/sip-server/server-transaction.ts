import { getParam, type ReadonlyVia, type SipRequest, type SipResponse } from '../../core/sip/message/index.js';
import type { SipTimerValues } from '../../core/sip/transport/udp-retransmitter.js';
import type { Hop } from './server-transports.js';

/** RFC 3261 §17.2.3: the key matching a request (and its retransmissions) to a server transaction. */
export function serverTransactionKey(via: ReadonlyVia, method: string): string {
  const branch = getParam(via.params, 'branch') ?? '';
  const sentBy = `${via.host.toLowerCase()}:${via.port ?? 5060}`;
  return `${branch}|${sentBy}|${method === 'ACK' ? 'INVITE' : method}`;
}

type ServerState = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

/**
 * A server transaction (RFC 3261 §17.2): absorbs request retransmissions by resending the last response,
 * retransmits a non-2xx final response to INVITE over UDP until the ACK (Timer G, given up after Timer H), and
 * lingers after completion to absorb late retransmissions (Timers I and J). An INVITE answered 2xx stays "Accepted"
 * for 64·T1 (RFC 6026 §7.1, Timer L) and absorbs the INVITE's retransmissions: ended at the 2xx, as RFC 3261 had it,
 * a retransmission that crossed the 2xx was forwarded as a new request (RFC 6026 §1).
 */
export class ServerTransaction {
  state: ServerState = 'proceeding';
  lastResponse?: SipResponse;
  readonly method: string;
  /** Held until the final response: after it, only the method is needed (an accepted INVITE lingers 32 s). */
  private held: SipRequest | undefined;
  private timer?: NodeJS.Timeout;
  private lingerTimer?: NodeJS.Timeout;

  constructor(
    readonly key: string,
    request: SipRequest,
    readonly hop: Hop,
    private readonly send: (raw: string, hop: Hop) => void,
    private readonly timers: SipTimerValues,
    private readonly onTerminated: (key: string) => void,
  ) {
    this.method = request.method;
    this.held = request;
  }

  /** The request this transaction answers; only one still proceeding has it (a CANCEL's 487, Timer C's 408). */
  get request(): SipRequest {
    if (this.held === undefined) throw new Error(`the ${this.method} of transaction ${this.key} was answered and is no longer kept`);
    return this.held;
  }

  get hasFinal(): boolean {
    return this.state !== 'proceeding';
  }

  respond(response: SipResponse): void {
    if (this.state !== 'proceeding') return;
    this.lastResponse = response;
    const raw = response.toString();
    this.send(raw, this.hop);
    if (response.status < 200) return;
    this.held = undefined;
    const reliable = this.hop.transport !== 'udp';
    if (this.method === 'INVITE') {
      if (response.status < 300) {
        // RFC 6026 §7.1: the 2xx's retransmissions are the UAS's and travel on without this transaction (§16.7 step
        // 10); kept is only what absorbs the INVITE's, so the response goes.
        this.state = 'accepted';
        this.lastResponse = undefined;
        this.linger(64 * this.timers.t1); // Timer L
        return;
      }
      this.state = 'completed';
      if (!reliable) this.retransmit(raw, this.timers.t1);
      this.linger(64 * this.timers.t1); // Timer H
    } else {
      this.state = 'completed';
      this.linger(reliable ? 0 : 64 * this.timers.t1); // Timer J
    }
  }

  /** The same request arrived again. */
  onRetransmission(): void {
    if (this.state === 'accepted') return; // RFC 6026 §7.1: absorbed
    if (this.lastResponse && this.state !== 'confirmed') this.send(this.lastResponse.toString(), this.hop);
  }

  /** The ACK for our non-2xx final response (§17.2.1). */
  onAck(): void {
    if (this.state !== 'completed' || this.method !== 'INVITE') return;
    this.state = 'confirmed';
    clearTimeout(this.timer);
    this.linger(this.hop.transport === 'udp' ? 5000 : 0); // Timer I = T4
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    clearTimeout(this.timer);
    clearTimeout(this.lingerTimer);
    this.onTerminated(this.key);
  }

  private retransmit(raw: string, interval: number): void {
    this.timer = setTimeout(() => {
      if (this.state !== 'completed') return;
      this.send(raw, this.hop);
      this.retransmit(raw, Math.min(interval * 2, this.timers.t2)); // Timer G
    }, interval);
    this.timer.unref();
  }

  private linger(ms: number): void {
    clearTimeout(this.lingerTimer);
    if (ms === 0) {
      // Timers I and J are zero over reliable transports (§17.2.1, §17.2.2): the transaction is over before anything
      // else arrives, so a new request that reuses its branch and sent-by (RFC 4475's cparam01 and cparam02) is new.
      queueMicrotask(() => this.terminate());
      return;
    }
    this.lingerTimer = setTimeout(() => this.terminate(), ms);
    this.lingerTimer.unref();
  }
}
