/**
 * The SHA-1 compression function (FIPS 180-4 §6.1.2) on one 512-bit block given as sixteen big-endian words.
 * Only additions, rotations and bitwise operations on 32-bit words: no table lookups, so no data-dependent memory
 * access. It exists so an HMAC can keep its keyed inner and outer states for a key's life (RFC 2104 §4) — node:crypto
 * builds a new HMAC, key schedule included, for every packet.
 */
const schedule = new Int32Array(80);

/** The initial hash value H(0) (FIPS 180-4 §5.3.1). */
export const sha1Initial: readonly number[] = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0];

/** `into` = compress(`from`, `block`); `into` and `from` may be the same array. */
export function sha1Compress(into: Int32Array, from: ArrayLike<number>, block: Int32Array): void {
  const w = schedule;
  for (let i = 0; i < 16; i++) w[i] = block[i]!;
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = from[0]!;
  let b = from[1]!;
  let c = from[2]!;
  let d = from[3]!;
  let e = from[4]!;
  // the four rounds of 20 steps in their own loops (FIPS 180-4 §4.1.1 f_t, §4.2.1 K_t): no per-step branch
  for (let i = 0; i < 20; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + w[i]! + 0x5a827999) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 20; i < 40; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w[i]! + 0x6ed9eba1) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 40; i < 60; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + w[i]! - 0x70e44324) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 60; i < 80; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w[i]! - 0x359d3e2a) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  into[0] = (from[0]! + a) | 0;
  into[1] = (from[1]! + b) | 0;
  into[2] = (from[2]! + c) | 0;
  into[3] = (from[3]! + d) | 0;
  into[4] = (from[4]! + e) | 0;
}
