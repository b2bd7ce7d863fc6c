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

/** Packets whose keystream one cipher call makes ahead for a stream (RFC 3711 §4.1.1 allows precomputing it). */
export const keystreamBatch = 32;

/** The keystream made ahead for one source: packets `first` .. `first + count - 1`, `slot` bytes each. */
interface StreamKeystream {
  ssrc: number;
  first: number;
  count: number;
  slot: number;
  bytes: Buffer;
}

/**
 * AES-CM for packets (RFC 3711 §4.1.1): one AES-ECB key schedule kept for the key's life, counter blocks written as
 * four 32-bit words. A node:crypto call costs far more than the blocks it encrypts, so with `batch` > 1 the keystream
 * of the next `batch` indices of a source is made in one call and used as those packets come (the next index is
 * known for our own packets and nearly always for the peer's); an index outside it gets its own call. Each
 * keystream byte is still used for exactly one (SSRC, index, offset), as without the batch.
 */
export class AesCmCipher {
  private readonly ecb: Cipher;
  private blocks = Buffer.alloc(16 * 94); // enough for a 1500-byte payload; grows for larger ones
  private view = new DataView(this.blocks.buffer, this.blocks.byteOffset, this.blocks.byteLength);
  /** The session salt k_s * 2^16 as four big-endian words (the last one's low 16 bits are the block counter). */
  private readonly salt: [number, number, number, number];
  private readonly ahead = new Map<number, StreamKeystream>();

  constructor(
    key: Buffer,
    salt: Buffer,
    private readonly batch = 1,
    /** Sources whose keystream is kept at most (the context's own limit on sources). */
    private readonly maxStreams = 16,
  ) {
    this.ecb = createCipheriv('aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
    this.salt = [salt.readUInt32BE(0), salt.readUInt32BE(4), salt.readUInt32BE(8), (salt.readUInt16BE(12) << 16) >>> 0];
  }

  /** XOR `data[start, end)` in place with the keystream of IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16). */
  apply(ssrc: number, index: number, data: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (length <= 0) return;
    let keystream: Uint8Array;
    let from = 0;
    if (this.batch > 1) {
      let ahead = this.ahead.get(ssrc);
      if (!ahead || index < ahead.first || index >= ahead.first + ahead.count || length > ahead.slot) {
        const slot = Math.max(Math.ceil(length / 16), ahead && index >= ahead.first ? ahead.slot / 16 : 0);
        ahead = { ssrc, first: index, count: this.batch, slot: slot * 16, bytes: this.keystream(ssrc, index, this.batch, slot) };
        if (this.ahead.size >= this.maxStreams && !this.ahead.has(ssrc)) this.ahead.delete(this.ahead.keys().next().value!);
        this.ahead.set(ssrc, ahead);
      }
      keystream = ahead.bytes;
      from = (index - ahead.first) * ahead.slot;
    } else {
      keystream = this.keystream(ssrc, index, 1, Math.ceil(length / 16));
    }
    for (let i = 0; i < length; i++) data[start + i]! ^= keystream[from + i]!;
  }

  /** The keystream of `packets` consecutive indices from `index`, `blocksPerPacket` blocks each, in one cipher call. */
  private keystream(ssrc: number, index: number, packets: number, blocksPerPacket: number): Buffer {
    const size = packets * blocksPerPacket * 16;
    if (size > this.blocks.length) {
      this.blocks = Buffer.alloc(size);
      this.view = new DataView(this.blocks.buffer, this.blocks.byteOffset, this.blocks.byteLength);
    }
    const view = this.view;
    const [s0, s1, s2, s3] = this.salt;
    const w1 = (s1 ^ ssrc) >>> 0;
    let at = 0;
    for (let p = 0; p < packets; p++) {
      const i = index + p;
      const high = Math.floor(i / 0x100000000); // the index is 48 bits (RFC 3711 §3.3.1): ROC || SEQ
      const low = i >>> 0;
      const w2 = (s2 ^ ((high << 16) | (low >>> 16))) >>> 0;
      const w3 = (s3 ^ ((low & 0xffff) << 16)) >>> 0;
      for (let b = 0; b < blocksPerPacket; b++, at += 16) {
        view.setUint32(at, s0);
        view.setUint32(at + 4, w1);
        view.setUint32(at + 8, w2);
        view.setUint32(at + 12, (w3 | b) >>> 0); // the block counter fills the IV's zero low 16 bits and cannot carry
      }
    }
    return this.ecb.update(this.blocks.subarray(0, size));
  }
}
