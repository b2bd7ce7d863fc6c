// 32 symbols, so `byte % 32` has no modulo bias.
const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * CSPRNG bytes drawn 4 KB at a time and each handed out once. Every draw from the platform (getRandomValues, which
 * OpenSSL serves) costs 1.2-1.8 µs here, 20 bytes or 4 KB alike, with one system call (getpid: OpenSSL checks for a
 * fork), and a proxy draws a branch for every request it forwards: one draw per 200 tokens instead of one per token.
 * Node's own crypto.randomUUID keeps such a pool.
 */
const poolBytes = 4096;
const pool = new Uint8Array(poolBytes);
let used = poolBytes;

/**
 * A random token from the platform CSPRNG (tags, branches, Call-IDs). Privacy: identifiers must carry nothing
 * about the user or the host (seed 000, RFC 3323 §5), so they are never derived from names, addresses or clocks.
 */
export function randomToken(length = 16): string {
  // a bad length would move the pool's mark: later tokens would repeat bytes, or come out empty
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bad token length ${length}`);
  let bytes: Uint8Array;
  if (length > poolBytes) bytes = globalThis.crypto.getRandomValues(new Uint8Array(length));
  else {
    if (used + length > poolBytes) {
      globalThis.crypto.getRandomValues(pool);
      used = 0;
    }
    bytes = pool.subarray(used, used + length);
    used += length;
  }
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  bytes.fill(0); // the pooled bytes are wiped once used: the pool's memory does not tell the tokens handed out
  return out;
}

/** An RFC 3261 §8.1.1.7 branch: the magic cookie and a random part. */
export function newBranch(): string {
  return `z9hG4bK${randomToken(20)}`;
}
