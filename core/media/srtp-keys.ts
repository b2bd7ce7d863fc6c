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
 * into a reused buffer as four 32-bit words, so a packet costs one cipher call and an XOR.
 */
export class AesCmCipher {
  private readonly ecb: Cipher;
  private blocks = Buffer.alloc(16 * 94); // enough for a 1500-byte payload; grows for larger ones
  private view = new DataView(this.blocks.buffer, this.blocks.byteOffset, this.blocks.byteLength);
  /** The session salt k_s * 2^16 as four big-endian words (the last one's low 16 bits are the block counter). */
  private readonly salt: [number, number, number, number];

  constructor(key: Buffer, salt: Buffer) {
    this.ecb = createCipheriv('aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
    this.salt = [salt.readUInt32BE(0), salt.readUInt32BE(4), salt.readUInt32BE(8), (salt.readUInt16BE(12) << 16) >>> 0];
  }

  /** XOR `data[start, end)` in place with the keystream of IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16). */
  apply(ssrc: number, index: number, data: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (length <= 0) return;
    const high = Math.floor(index / 0x100000000); // the index is 48 bits (RFC 3711 §3.3.1): ROC || SEQ
    const low = index >>> 0;
    const [s0, s1, s2, s3] = this.salt;
    const w1 = (s1 ^ ssrc) >>> 0;
    const w2 = (s2 ^ ((high << 16) | (low >>> 16))) >>> 0;
    const w3 = (s3 ^ ((low & 0xffff) << 16)) >>> 0;
    const count = Math.ceil(length / 16);
    if (count * 16 > this.blocks.length) {
      this.blocks = Buffer.alloc(count * 16);
      this.view = new DataView(this.blocks.buffer, this.blocks.byteOffset, this.blocks.byteLength);
    }
    const view = this.view;
    for (let b = 0; b < count; b++) {
      const at = b * 16;
      view.setUint32(at, s0);
      view.setUint32(at + 4, w1);
      view.setUint32(at + 8, w2);
      view.setUint32(at + 12, (w3 | b) >>> 0); // the block counter fills the IV's zero low 16 bits and cannot carry
    }
    const keystream = this.ecb.update(this.blocks.subarray(0, count * 16));
    for (let i = 0; i < length; i++) data[start + i]! ^= keystream[i]!;
  }
}
