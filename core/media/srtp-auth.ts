import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA1 message authentication truncated to the suite's tag (RFC 3711 §4.2.1). */
export class HmacSha1Tag {
  private readonly roc = Buffer.alloc(4);

  constructor(
    private readonly key: Buffer,
    readonly length: number,
  ) {}

  /** Write the tag of `data[0, end)` — followed by the 32-bit ROC for SRTP (§4.2) — at `data[at]`. */
  write(data: Uint8Array, end: number, roc: number | undefined, at: number): void {
    data.set(this.digest(data, end, roc).subarray(0, this.length), at);
  }

  /** True when the tag at `data[at]` is the tag of `data[0, end)` (and the ROC), compared in constant time. */
  verify(data: Uint8Array, end: number, roc: number | undefined, at: number): boolean {
    return timingSafeEqual(this.digest(data, end, roc).subarray(0, this.length), data.subarray(at, at + this.length));
  }

  private digest(data: Uint8Array, end: number, roc: number | undefined): Buffer {
    const hmac = createHmac('sha1', this.key);
    hmac.update(data.subarray(0, end));
    if (roc !== undefined) {
      this.roc.writeUInt32BE(roc >>> 0);
      hmac.update(this.roc);
    }
    return hmac.digest();
  }
}
