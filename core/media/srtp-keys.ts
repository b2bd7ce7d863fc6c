import { createCipheriv, type Cipher } from 'node:crypto';
import { SrtpError } from './srtp-error.js';
import type { SrtpMasterKey, SrtpSuite } from './srtp-suite.js';

/** RFC 3711 §4.3.2: the labels that derive each session key from the master key. */
export const srtpLabels = { rtpEncryption: 0, rtpAuthentication: 1, rtpSalt: 2, rtcpEncryption: 3, rtcpAuthentication: 4, rtcpSalt: 5 } as const;

/** The keys one direction uses for RTP or for RTCP (RFC 3711 §4.3). */
export interface SrtpSessionKeys {
  encryptionKey: Buffer;
  authenticationKey: Buffer;
  salt: Buffer;
}

/** `length` bytes of AES-128 counter-mode keystream starting at the 128-bit `iv` (RFC 3711 §4.1.1). */
export function aesCmKeystream(key: Buffer, iv: Buffer, length: number): Buffer {
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

/**
 * One session key (RFC 3711 §4.3.1) with key_derivation_rate 0, so r = 0: key_id = label || 0^48,
 * x = key_id XOR master_salt, and the key is AES-CM(master key) from IV x * 2^16.
 */
export function deriveSessionKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, 14);
  iv[7]! ^= label; // the label is the first of key_id's 7 bytes, which sit at the right of the 14-byte salt
  return aesCmKeystream(masterKey, iv, length);
}

function checkMasterKey(suite: SrtpSuite, master: SrtpMasterKey): void {
  if (master.key.length !== suite.keyLength) throw new SrtpError('BAD_KEY', `${suite.name} needs a ${suite.keyLength}-byte master key, not ${master.key.length}`);
  if (master.salt.length !== suite.saltLength) throw new SrtpError('BAD_KEY', `${suite.name} needs a ${suite.saltLength}-byte master salt, not ${master.salt.length}`);
}

/** The six session keys of one master key (RFC 3711 §4.3.2), derived once when the key is installed. */
export function deriveSrtpKeys(suite: SrtpSuite, master: SrtpMasterKey): { rtp: SrtpSessionKeys; rtcp: SrtpSessionKeys } {
  checkMasterKey(suite, master);
  const derive = (label: number, length: number): Buffer => deriveSessionKey(master.key, master.salt, label, length);
  return {
    rtp: {
      encryptionKey: derive(srtpLabels.rtpEncryption, suite.keyLength),
      authenticationKey: derive(srtpLabels.rtpAuthentication, suite.authKeyLength),
      salt: derive(srtpLabels.rtpSalt, suite.saltLength),
    },
    rtcp: {
      encryptionKey: derive(srtpLabels.rtcpEncryption, suite.keyLength),
      authenticationKey: derive(srtpLabels.rtcpAuthentication, suite.authKeyLength),
      salt: derive(srtpLabels.rtcpSalt, suite.saltLength),
    },
  };
}

/**
 * AES-CM for packets (RFC 3711 §4.1.1): one AES-ECB key schedule kept for the key's life, counter blocks written
 * into a reused buffer, so a packet costs one cipher call and an XOR.
 */
export class AesCmCipher {
  private readonly ecb: Cipher;
  private readonly iv = Buffer.alloc(16);
  private blocks = Buffer.alloc(16 * 94); // enough for a 1500-byte payload; grows for larger ones

  constructor(
    key: Buffer,
    private readonly salt: Buffer,
  ) {
    this.ecb = createCipheriv('aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
  }

  /** XOR `data[start, end)` in place with the keystream of IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16). */
  apply(ssrc: number, index: number, data: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (length <= 0) return;
    const iv = this.iv;
    this.salt.copy(iv, 0, 0, 14);
    iv[4]! ^= ssrc >>> 24;
    iv[5]! ^= (ssrc >>> 16) & 0xff;
    iv[6]! ^= (ssrc >>> 8) & 0xff;
    iv[7]! ^= ssrc & 0xff;
    const high = Math.floor(index / 0x100000000); // the index is 48 bits (RFC 3711 §3.3.1), ROC || SEQ
    const low = index >>> 0;
    iv[8]! ^= (high >>> 8) & 0xff;
    iv[9]! ^= high & 0xff;
    iv[10]! ^= low >>> 24;
    iv[11]! ^= (low >>> 16) & 0xff;
    iv[12]! ^= (low >>> 8) & 0xff;
    iv[13]! ^= low & 0xff;
    const count = Math.ceil(length / 16);
    if (count * 16 > this.blocks.length) this.blocks = Buffer.alloc(count * 16);
    const blocks = this.blocks;
    for (let b = 0; b < count; b++) {
      const at = b * 16;
      for (let i = 0; i < 14; i++) blocks[at + i] = iv[i]!;
      blocks[at + 14] = b >>> 8; // the low 16 bits of the IV are zero: the block counter, which cannot carry
      blocks[at + 15] = b & 0xff;
    }
    const keystream = this.ecb.update(blocks.subarray(0, count * 16));
    for (let i = 0; i < length; i++) data[start + i]! ^= keystream[i]!;
  }
}
