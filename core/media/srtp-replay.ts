/** RFC 3711 §3.3.2: replay windows of 64 packets at least; we default to 128 like libsrtp. */
export const defaultReplayWindow = 128;

/**
 * The replay list of one source (RFC 3711 §3.3.2): the highest authenticated index and a bitmap of the `size`
 * indices below it. `check` runs before authentication (cheap rejects), `accept` only after it, so a forged packet
 * never moves the window.
 */
export class ReplayWindow {
  /** The highest index accepted so far; -1 before the first packet. */
  highest = -1;
  private readonly bits: Uint32Array;

  constructor(readonly size = defaultReplayWindow) {
    if (!Number.isInteger(size) || size < 64 || size > 32768 || size % 32 !== 0) throw new RangeError(`a replay window holds 64 to 32768 packets in steps of 32, not ${size}`);
    this.bits = new Uint32Array(size / 32);
  }

  check(index: number): 'ok' | 'REPLAYED' | 'TOO_OLD' {
    if (index > this.highest) return 'ok';
    if (index < 0 || this.highest - index >= this.size) return 'TOO_OLD';
    return this.has(index) ? 'REPLAYED' : 'ok';
  }

  accept(index: number): void {
    if (index > this.highest) {
      if (index - this.highest >= this.size) this.bits.fill(0);
      else for (let i = this.highest + 1; i < index; i++) this.clear(i);
      this.highest = index;
    }
    const slot = index % this.size;
    this.bits[slot >>> 5]! |= 1 << (slot & 31);
  }

  private has(index: number): boolean {
    const slot = index % this.size;
    return (this.bits[slot >>> 5]! & (1 << (slot & 31))) !== 0;
  }

  private clear(index: number): void {
    const slot = index % this.size;
    this.bits[slot >>> 5]! &= ~(1 << (slot & 31));
  }
}

/**
 * The packet index i = 2^16 * ROC + SEQ a received sequence number most likely has, given the highest index seen
 * (RFC 3711 §3.3.1 and Appendix A; the first packet of a source takes ROC 0). Negative when the guess is ROC - 1
 * while ROC is still 0: a packet from before the stream began, which the caller drops as too old.
 */
export function estimateIndex(highest: number, sequence: number): number {
  if (highest < 0) return sequence;
  const roc = Math.floor(highest / 0x10000);
  const last = highest % 0x10000;
  let guess = roc;
  if (last < 0x8000) {
    if (sequence - last > 0x8000) guess = roc - 1;
  } else if (last - 0x8000 > sequence) {
    guess = roc + 1;
  }
  return guess * 0x10000 + sequence;
}
