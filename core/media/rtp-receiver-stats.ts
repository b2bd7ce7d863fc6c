/**
 * Receive-side statistics of one RTP source (RFC 3550 Appendix A.1, A.3, A.8): extended highest sequence number,
 * expected and lost packets, and interarrival jitter, in a form RTCP reports and the call log can use.
 */
export class RtpReceiverStats {
  received = 0;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private started = false;
  private jitterUnits = 0;
  private lastTransit: number | undefined;
  // for the fraction lost of the next report (A.3)
  private expectedPrior = 0;
  private receivedPrior = 0;

  constructor(private readonly clockRate = 8000) {}

  /**
   * Record one accepted packet; `arrivalMs` is the local receive time. Packets of an RFC 4733 event repeat their
   * event's timestamp (§2.5.1.2), so they count for loss but not for jitter (`timed: false`).
   */
  update(sequence: number, rtpTimestamp: number, arrivalMs: number, timed = true): void {
    if (!this.started) {
      this.started = true;
      this.baseSeq = sequence;
      this.maxSeq = sequence;
    } else {
      const delta = (sequence - this.maxSeq) & 0xffff;
      if (delta > 0 && delta < 0x8000) {
        if (sequence < this.maxSeq) this.cycles += 0x10000; // wrapped
        this.maxSeq = sequence;
      }
    }
    this.received++;
    if (!timed) return;
    const arrival = Math.round((arrivalMs * this.clockRate) / 1000);
    const transit = arrival - rtpTimestamp;
    if (this.lastTransit !== undefined) {
      const d = Math.abs(((transit - this.lastTransit) | 0));
      this.jitterUnits += (d - this.jitterUnits) / 16;
    }
    this.lastTransit = transit;
  }

  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  get expected(): number {
    return this.started ? this.extendedMax - this.baseSeq + 1 : 0;
  }

  /** Cumulative packets lost (negative when duplicates arrived, as RFC 3550 allows). */
  get lost(): number {
    return this.expected - this.received;
  }

  get lossPercent(): number {
    return this.expected > 0 ? Math.max(0, (100 * this.lost) / this.expected) : 0;
  }

  get jitterMs(): number {
    return (this.jitterUnits * 1000) / this.clockRate;
  }

  get jitterTimestampUnits(): number {
    return Math.floor(this.jitterUnits);
  }

  get hasData(): boolean {
    return this.started;
  }

  /** The fraction lost since the previous call, as the 8-bit fixed point number of a report block (A.3). */
  takeFractionLost(): number {
    const expectedInterval = this.expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = this.expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    return expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
  }

  /** A new sender (SSRC change) starts its numbering afresh. */
  reset(): void {
    Object.assign(this, { received: 0, baseSeq: 0, maxSeq: 0, cycles: 0, started: false, jitterUnits: 0, lastTransit: undefined, expectedPrior: 0, receivedPrior: 0 });
  }
}
