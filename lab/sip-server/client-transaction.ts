import { normalizeHeaderName, SipRequest, type SipResponse } from '../../core/sip/message/index.js';
import type { SipTimerValues } from '../../core/sip/transport/udp-retransmitter.js';
import type { Hop } from './server-transports.js';

type ClientState = 'calling' | 'proceeding' | 'completed' | 'terminated';

/**
 * A client transaction for a request the proxy forwards (RFC 3261 §17.1): retransmits over UDP (Timers A/E),
 * times out (Timers B/F) into a synthetic 408, acknowledges non-2xx finals to INVITE hop by hop (§17.1.1.3),
 * absorbs retransmitted finals, and can be cancelled (§9.1).
 */
export class ClientTransaction {
  state: ClientState = 'calling';
  lastStatus = 0;
  private retransmitTimer?: NodeJS.Timeout;
  private timeoutTimer?: NodeJS.Timeout;
  private interval: number;
  private cancelWanted = false;
  private cancelSent = false;
  /** RFC 3326 Reason of the CANCEL, when the proxy says why (a forked call completed elsewhere). */
  private cancelReason: string | undefined;

  constructor(
    readonly branch: string,
    readonly request: SipRequest,
    readonly hop: Hop,
    private readonly send: (raw: string, hop: Hop) => void,
    private readonly timers: SipTimerValues,
    private readonly onResponse: (response: SipResponse, tx: ClientTransaction) => void,
    private readonly onTimeout: (tx: ClientTransaction) => void,
    private readonly onTerminated: (tx: ClientTransaction) => void,
  ) {
    this.interval = timers.t1;
  }

  get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  start(): void {
    const raw = this.request.toString();
    this.send(raw, this.hop);
    if (this.hop.transport === 'udp') this.scheduleRetransmit(raw);
    this.timeoutTimer = setTimeout(() => this.timeout(), 64 * this.timers.t1); // Timer B / F
    this.timeoutTimer.unref();
  }

  receive(response: SipResponse): void {
    const status = response.status;
    if (this.state === 'completed') {
      if (this.isInvite && status >= 300) this.sendAck(response); // a retransmitted final gets the ACK again
      return;
    }
    if (this.state === 'terminated') return;
    this.lastStatus = status;
    if (status < 200) {
      if (this.isInvite) this.stopRetransmit(); // §17.1.1.2: any response stops Timer A
      else this.interval = this.timers.t2; // §17.1.2.2: after a provisional, retransmit every T2
      if (this.state === 'calling') {
        this.state = 'proceeding';
        if (this.isInvite) {
          clearTimeout(this.timeoutTimer);
          // Timer C (§16.6 step 11): a proxy gives up on an INVITE branch stuck in provisional state.
          this.timeoutTimer = setTimeout(() => this.cancel(), 180_000);
          this.timeoutTimer.unref();
        }
        if (this.cancelWanted) this.sendCancel();
      }
      this.onResponse(response, this);
      return;
    }
    this.stopRetransmit();
    clearTimeout(this.timeoutTimer);
    if (this.isInvite && status >= 300) {
      this.sendAck(response);
      this.state = 'completed';
      const linger = setTimeout(() => this.terminate(), this.hop.transport === 'udp' ? 32_000 : 0); // Timer D
      linger.unref();
    } else {
      this.terminate();
    }
    this.onResponse(response, this);
  }

  /** RFC 3261 §9.1: CANCEL only once a provisional response has arrived; until then remember the wish. */
  cancel(reason?: string): void {
    if (!this.isInvite || this.state === 'completed' || this.state === 'terminated') return;
    this.cancelWanted = true;
    if (reason !== undefined) this.cancelReason ??= reason;
    if (this.state === 'proceeding') this.sendCancel();
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.stopRetransmit();
    clearTimeout(this.timeoutTimer);
    this.onTerminated(this);
  }

  /** §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via; Route headers copied. */
  buildCancel(): SipRequest {
    const cancel = this.derive('CANCEL', this.request.get('to') ?? '');
    if (this.cancelReason !== undefined) cancel.set('reason', this.cancelReason);
    return cancel;
  }

  private sendCancel(): void {
    if (this.cancelSent) return;
    this.cancelSent = true;
    const cancel = this.buildCancel();
    // The CANCEL is its own non-INVITE transaction; its response is absorbed here.
    const raw = cancel.toString();
    this.send(raw, this.hop);
    if (this.hop.transport === 'udp') {
      let interval = this.timers.t1;
      const deadline = Date.now() + 64 * this.timers.t1;
      const again = (): void => {
        if (this.state !== 'proceeding' || Date.now() > deadline) return;
        this.send(raw, this.hop);
        interval = Math.min(interval * 2, this.timers.t2);
        setTimeout(again, interval).unref();
      };
      setTimeout(again, interval).unref();
    }
  }

  /** §17.1.1.3: the ACK to a non-2xx final carries the To of the response. */
  private sendAck(response: SipResponse): void {
    this.send(this.derive('ACK', response.get('to') ?? '').toString(), this.hop);
  }

  private derive(method: 'ACK' | 'CANCEL', to: string): SipRequest {
    const keep = new Set(['via', 'from', 'call-id', 'route', 'max-forwards']);
    const headers = this.request.headers.filter((h) => keep.has(normalizeHeaderName(h.name))).map((h) => ({ ...h }));
    const derived = new SipRequest(method, this.request.uri, headers);
    const vias = derived.getAll('via');
    derived.replaceAll('via', vias.slice(0, 1));
    derived.set('to', to);
    derived.set('cseq', `${this.request.cseq.seq} ${method}`);
    return derived;
  }

  private scheduleRetransmit(raw: string): void {
    this.retransmitTimer = setTimeout(() => {
      if (this.state !== 'calling' && !(this.state === 'proceeding' && !this.isInvite)) return;
      this.send(raw, this.hop);
      this.interval = this.isInvite ? this.interval * 2 : Math.min(this.interval * 2, this.timers.t2);
      this.scheduleRetransmit(raw);
    }, this.interval);
    this.retransmitTimer.unref();
  }

  private stopRetransmit(): void {
    clearTimeout(this.retransmitTimer);
    this.retransmitTimer = undefined;
  }

  private timeout(): void {
    if (this.state === 'terminated' || this.state === 'completed') return;
    this.terminate();
    this.onTimeout(this);
  }
}
