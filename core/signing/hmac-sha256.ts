import { createHash } from 'node:crypto';

/**
 * HMAC-SHA256 (RFC 2104, FIPS 180-4) for the short inputs of header signatures, with the keyed pads hashed once per
 * key: RFC 2104 §4 ("Implementation Note") lets an implementation precompute the compression of K XOR ipad and
 * K XOR opad and start every MAC from those states. node:crypto cannot resume from a saved state, and creating an
 * Hmac object costs more than hashing a 200-byte input, so the compression function runs here. It only does 32-bit
 * arithmetic on secret-dependent words (no secret-indexed tables, no secret-dependent branches). hmac-sha256.test.ts
 * checks it against node:crypto and the RFC 4231 vectors.
 */

const roundConstants = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const initialState = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const blockBytes = 64;
const digestBytes = 32;

const schedule = new Int32Array(64);

/** FIPS 180-4 §6.2.2: fold one 64-byte block at `offset` into `state`. */
function compress(state: Int32Array, block: Uint8Array, offset: number): void {
  const w = schedule;
  for (let i = 0; i < 16; i++, offset += 4) w[i] = (block[offset]! << 24) | (block[offset + 1]! << 16) | (block[offset + 2]! << 8) | block[offset + 3]!;
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + roundConstants[i]! + w[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

function keyedState(key: Uint8Array, pad: number): Int32Array {
  const block = new Uint8Array(blockBytes);
  block.set(key);
  for (let i = 0; i < blockBytes; i++) block[i]! ^= pad;
  const state = Int32Array.from(initialState);
  compress(state, block, 0);
  return state;
}

/** Append the FIPS 180-4 §5.1.1 padding for a message of `totalBytes` whose last `used` bytes sit in `buffer`; returns the end. */
function pad(buffer: Uint8Array, used: number, totalBytes: number): number {
  let end = used;
  buffer[end++] = 0x80;
  while (end % blockBytes !== 56) buffer[end++] = 0;
  const bits = totalBytes * 8;
  const high = Math.floor(bits / 2 ** 32);
  buffer[end++] = high >>> 24;
  buffer[end++] = high >>> 16;
  buffer[end++] = high >>> 8;
  buffer[end++] = high;
  buffer[end++] = bits >>> 24;
  buffer[end++] = bits >>> 16;
  buffer[end++] = bits >>> 8;
  buffer[end++] = bits;
  return end;
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);
const outerBlock = new Uint8Array(blockBytes);
const state = new Int32Array(8);

/** A key ready to MAC with: both pads already compressed. */
export class HmacSha256Key {
  private readonly inner: Int32Array;
  private readonly outer: Int32Array;

  constructor(secret: Uint8Array) {
    // RFC 2104 §2: a key longer than the block is hashed first.
    const key = secret.length > blockBytes ? createHash('sha256').update(secret).digest() : secret;
    this.inner = keyedState(key, 0x36);
    this.outer = keyedState(key, 0x5c);
  }

  /** HMAC-SHA256 of `text` (UTF-8), its first `length` bytes (at most 32). */
  mac(text: string, length = digestBytes): Buffer {
    const worst = text.length * 3 + blockBytes + 9; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (worst > scratch.length) scratch = new Uint8Array(Math.max(worst, scratch.length * 2));
    const { written } = encoder.encodeInto(text, scratch);
    const end = pad(scratch, written, blockBytes + written);
    state.set(this.inner);
    for (let offset = 0; offset < end; offset += blockBytes) compress(state, scratch, offset);
    for (let i = 0; i < 8; i++) {
      const word = state[i]!;
      outerBlock[i * 4] = word >>> 24;
      outerBlock[i * 4 + 1] = word >>> 16;
      outerBlock[i * 4 + 2] = word >>> 8;
      outerBlock[i * 4 + 3] = word;
    }
    pad(outerBlock, digestBytes, blockBytes + digestBytes);
    state.set(this.outer);
    compress(state, outerBlock, 0);
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = state[i >> 2]! >>> (24 - 8 * (i & 3));
    return out;
  }
}

const keys = new WeakMap<Uint8Array, HmacSha256Key>();

/** The prepared form of a secret, made once per secret (session keys live for minutes to hours). */
export function hmacKey(secret: Uint8Array): HmacSha256Key {
  let key = keys.get(secret);
  if (key === undefined) {
    key = new HmacSha256Key(secret);
    keys.set(secret, key);
  }
  return key;
}
