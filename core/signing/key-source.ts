import type { KeyClass } from './signature-param.js';

/** What a key source answers for a key id: the secret, or why there is none. */
export type KeyResolution =
  | { status: 'found'; secret: Uint8Array; sealed?: SealedKeyInfo }
  | { status: 'unknown' }
  | { status: 'expired'; note: string }
  /** A sealed key came with the signature but cannot be trusted (bad pool signature, does not decrypt, wrong id). */
  | { status: 'invalid'; note: string };

/** The clear part of a sealed session key (¶[0067]: information appended and signed with the encrypted key). */
export interface SealedKeyInfo {
  suite: string;
  keyId: string;
  keyClass: KeyClass;
  createdAt: number;
}

/** Anything that can find the session key a signature names: a key ring, exported verification keys, a pool opener. */
export interface KeySource {
  /**
   * @param sealed the sealed session key carried beside the signature, if any (a pool member's, Fig. 14)
   * @param now the verifier's clock, in ms since the epoch
   */
  resolve(keyId: string, keyClass: KeyClass, sealed: string | undefined, now: number): KeyResolution;
}

/**
 * Several sources in order (a proxy's own ring, then the pool opener): the first that finds the key wins; else an
 * invalid sealed key, then an expired key, outrank "unknown".
 */
export function combineKeySources(...sources: KeySource[]): KeySource {
  return {
    resolve(keyId, keyClass, sealed, now) {
      let best: KeyResolution = { status: 'unknown' };
      const rank = { found: 3, invalid: 2, expired: 1, unknown: 0 } as const;
      for (const source of sources) {
        const result = source.resolve(keyId, keyClass, sealed, now);
        if (result.status === 'found') return result;
        if (rank[result.status] > rank[best.status]) best = result;
      }
      return best;
    },
  };
}
