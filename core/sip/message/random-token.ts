// 32 symbols, so `byte % 32` has no modulo bias.
const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * A random token from the platform CSPRNG (tags, branches, Call-IDs). Privacy: identifiers must carry nothing
 * about the user or the host (seed 000, RFC 3323 §5), so they are never derived from names, addresses or clocks.
 */
export function randomToken(length = 16): string {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

/** An RFC 3261 §8.1.1.7 branch: the magic cookie and a random part. */
export function newBranch(): string {
  return `z9hG4bK${randomToken(20)}`;
}
