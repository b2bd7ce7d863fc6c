import { sha1Compress, sha1Initial } from './sha1-block.js';

const blockBytes = 64;

/**
 * HMAC-SHA1 message authentication truncated to the suite's tag (RFC 3711 §4.2.1). The keyed inner and outer
 * SHA-1 states (RFC 2104 §4: H(K XOR ipad), H(K XOR opad)) are computed once per session key, so a packet costs
 * its own blocks plus one outer block; nothing is allocated per packet.
 */
export class HmacSha1Tag {
  private readonly inner = new Int32Array(5);
  private readonly outer = new Int32Array(5);
  private readonly state = new Int32Array(5);
  private readonly block = new Int32Array(16);
  /** The message's last bytes, the ROC, the 0x80 pad and the bit length: at most two blocks. */
  private readonly tail = new Uint8Array(2 * blockBytes);

  constructor(
    key: Buffer,
    readonly length: number,
  ) {
    if (key.length > blockBytes) throw new RangeError('an SRTP authentication key is at most 64 bytes'); // RFC 3711 §4.2.1: 160 bits
    const padded = Buffer.alloc(blockBytes);
    key.copy(padded);
    for (let i = 0; i < 16; i++) this.block[i] = padded.readInt32BE(i * 4) ^ 0x36363636;
    sha1Compress(this.inner, sha1Initial, this.block);
    for (let i = 0; i < 16; i++) this.block[i] = padded.readInt32BE(i * 4) ^ 0x5c5c5c5c;
    sha1Compress(this.outer, sha1Initial, this.block);
    padded.fill(0);
  }

  /** Write the tag of `data[0, end)` — followed by the 32-bit ROC for SRTP (§4.2) — at `data[at]`. */
  write(data: Uint8Array, end: number, roc: number | undefined, at: number): void {
    const mac = this.digest(data, end, roc);
    for (let i = 0; i < this.length; i++) data[at + i] = (mac[i >>> 2]! >>> (24 - 8 * (i & 3))) & 0xff;
  }

  /** True when the tag at `data[at]` is the tag of `data[0, end)` (and the ROC), compared in constant time. */
  verify(data: Uint8Array, end: number, roc: number | undefined, at: number): boolean {
    const mac = this.digest(data, end, roc);
    let difference = 0; // every byte is compared, whatever the first difference: no early exit
    for (let i = 0; i < this.length; i++) difference |= data[at + i]! ^ ((mac[i >>> 2]! >>> (24 - 8 * (i & 3))) & 0xff);
    return difference === 0;
  }

  /** HMAC-SHA1(key, data[0, end) || ROC) as five words (RFC 2104 §2). */
  private digest(data: Uint8Array, end: number, roc: number | undefined): Int32Array {
    const state = this.state;
    const block = this.block;
    state.set(this.inner);
    const whole = end - (end % blockBytes);
    for (let at = 0; at < whole; at += blockBytes) {
      for (let i = 0, p = at; i < 16; i++, p += 4) block[i] = (data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!;
      sha1Compress(state, state, block);
    }
    // the rest of the message, the ROC, then FIPS 180-4 §5.1.1 padding with the length of ipad block + message
    const tail = this.tail;
    tail.fill(0);
    let n = end - whole;
    for (let i = 0; i < n; i++) tail[i] = data[whole + i]!;
    if (roc !== undefined) {
      tail[n] = roc >>> 24;
      tail[n + 1] = (roc >>> 16) & 0xff;
      tail[n + 2] = (roc >>> 8) & 0xff;
      tail[n + 3] = roc & 0xff;
      n += 4;
    }
    tail[n] = 0x80;
    const tailBlocks = n + 9 > blockBytes ? 2 : 1;
    const bits = (blockBytes + end + (roc !== undefined ? 4 : 0)) * 8;
    const last = tailBlocks * blockBytes;
    tail[last - 5] = Math.floor(bits / 2 ** 32) & 0xff; // packets are far below 2^29 bytes: the upper bytes stay 0
    tail[last - 4] = bits >>> 24;
    tail[last - 3] = (bits >>> 16) & 0xff;
    tail[last - 2] = (bits >>> 8) & 0xff;
    tail[last - 1] = bits & 0xff;
    for (let at = 0; at < last; at += blockBytes) {
      for (let i = 0, p = at; i < 16; i++, p += 4) block[i] = (tail[p]! << 24) | (tail[p + 1]! << 16) | (tail[p + 2]! << 8) | tail[p + 3]!;
      sha1Compress(state, state, block);
    }
    // outer: H(K XOR opad || inner digest), one block
    for (let i = 0; i < 5; i++) block[i] = state[i]!;
    block[5] = 0x80000000 | 0;
    for (let i = 6; i < 15; i++) block[i] = 0;
    block[15] = (blockBytes + 20) * 8;
    sha1Compress(state, this.outer, block);
    return state;
  }
}
