import { HmacSha1Tag } from './srtp-auth.js';
import { SrtpError } from './srtp-error.js';
import { AesCmCipher, deriveSrtpKeys, keystreamBatch, type SrtpSessionKeys } from './srtp-keys.js';
import { defaultReplayWindow, estimateIndex, ReplayWindow } from './srtp-replay.js';
import { srtpSuite, type SrtpMasterKey, type SrtpSuite, type SrtpSuiteName } from './srtp-suite.js';

/** RFC 3711 §3.3.1: the SRTP index is 48 bits; a master key never protects more packets (§9.2). */
const maxSrtpIndex = 2 ** 48 - 1;

export interface SrtpContextOptions {
  suite: SrtpSuiteName;
  key: SrtpMasterKey;
  /** Replay window per source, packets (RFC 3711 §3.3.2: 64 at least). */
  replayWindow?: number;
  /** Sources (SSRCs) tracked at most; a further one is refused. */
  maxStreams?: number;
}

/** What a master key has left (RFC 4568 §6.1: its lifetime counts SRTP and SRTCP packets together). */
export class KeyUsage {
  remaining: number;

  constructor(lifetime: number | undefined) {
    this.remaining = lifetime ?? Number.POSITIVE_INFINITY;
  }

  /** Throws KEY_EXHAUSTED when the key may protect no further packet. */
  check(): void {
    if (this.remaining <= 0) throw new SrtpError('KEY_EXHAUSTED', 'the master key has reached its lifetime and must be replaced');
  }

  use(): void {
    this.remaining--;
  }
}

/** The MKI as it goes on the wire (RFC 3711 §3.1): the value big-endian in its stated length. */
export function mkiBytes(mki: SrtpMasterKey['mki']): Buffer {
  const bytes = Buffer.alloc(mki?.length ?? 0);
  let value = mki?.value ?? 0;
  for (let i = bytes.length - 1; i >= 0 && value > 0; i--) {
    bytes[i] = value % 256;
    value = Math.floor(value / 256);
  }
  return bytes;
}

/** Where an RTP packet's payload starts (RFC 3550 §5.1, §5.3.1): after the CSRCs and the header extension. */
function payloadOffset(data: Uint8Array, end: number): number {
  if (end < 12 || data[0]! >> 6 !== 2) throw new SrtpError('BAD_HEADER', 'not an RTP version 2 header');
  let offset = 12 + (data[0]! & 0x0f) * 4;
  if (data[0]! & 0x10) {
    if (offset + 4 > end) throw new SrtpError('BAD_HEADER', 'header extension runs past the packet');
    offset += 4 + ((data[offset + 2]! << 8) | data[offset + 3]!) * 4;
  }
  if (offset > end) throw new SrtpError('BAD_HEADER', 'CSRC list or header extension runs past the packet');
  return offset;
}

/**
 * One master key used in one direction for RTP (RFC 3711 §3.3): session keys derived once, per-source rollover
 * counters and replay windows. Outbound it protects our packets; inbound it checks, then decrypts, the peer's.
 * Methods throw SrtpError; SrtpSession turns inbound ones into counted drops.
 */
export class SrtpContext {
  readonly suite: SrtpSuite;
  readonly usage: KeyUsage;
  /** The session keys for RTCP, for the SRTCP context that shares this master key. */
  readonly rtcpKeys: SrtpSessionKeys;
  readonly mki: Buffer;
  private readonly cipher: AesCmCipher;
  private readonly tag: HmacSha1Tag;
  private readonly streams = new Map<number, ReplayWindow>();
  private readonly windowSize: number;
  private readonly maxStreams: number;

  constructor(options: SrtpContextOptions) {
    this.suite = srtpSuite(options.suite);
    const keys = deriveSrtpKeys(this.suite, options.key);
    this.rtcpKeys = keys.rtcp;
    this.maxStreams = options.maxStreams ?? 16;
    this.cipher = new AesCmCipher(keys.rtp.encryptionKey, keys.rtp.salt, keystreamBatch, this.maxStreams);
    this.tag = new HmacSha1Tag(keys.rtp.authenticationKey, this.suite.rtpTagLength);
    this.usage = new KeyUsage(options.key.lifetime);
    this.mki = mkiBytes(options.key.mki);
    this.windowSize = options.replayWindow ?? defaultReplayWindow;
    new ReplayWindow(this.windowSize); // refuse a bad window size now rather than on the first packet
  }

  /** The rollover counter of a source we have sent or received (RFC 3711 §3.2.1), for diagnostics and tests. */
  rolloverCounter(ssrc: number): number | undefined {
    const window = this.streams.get(ssrc >>> 0);
    return window && window.highest >= 0 ? Math.floor(window.highest / 0x10000) : undefined;
  }

  /** Bytes SRTP adds after an RTP packet: the MKI and the authentication tag (RFC 3711 §3.1). */
  get trailerLength(): number {
    return this.mki.length + this.tag.length;
  }

  /** RFC 3711 §3.3 for a sender: a new buffer holding the header, the encrypted payload, the MKI and the tag. */
  protect(rtp: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(rtp.length + this.trailerLength);
    out.set(rtp, 0);
    return this.protectInPlace(out, rtp.length);
  }

  /**
   * The same in place: `buffer[0, length)` is the RTP packet and `trailerLength` bytes follow it; the payload is
   * encrypted where it lies and the MKI and tag written after it (a sender that builds its packet with that room
   * saves a copy). Returns `buffer[0, length + trailerLength)`.
   */
  protectInPlace(buffer: Buffer, length: number): Buffer {
    const mkiLength = this.mki.length;
    const total = length + mkiLength + this.tag.length;
    if (buffer.length < total) throw new RangeError(`an SRTP packet needs ${total} bytes, the buffer has ${buffer.length}`);
    const start = payloadOffset(buffer, length);
    const ssrc = readUint32(buffer, 8);
    const window = this.stream(ssrc);
    const index = estimateIndex(window.highest, (buffer[2]! << 8) | buffer[3]!);
    if (index > maxSrtpIndex) throw new SrtpError('KEY_EXHAUSTED', 'the 48-bit SRTP index is used up: the master key must be replaced');
    const replay = window.check(index);
    if (replay !== 'ok') throw new SrtpError('INDEX_REUSED', `index ${index} of SSRC ${ssrc} ${replay === 'REPLAYED' ? 'was already protected with this key' : 'is behind the replay window: it may have been used'}`);
    this.usage.check();
    this.cipher.apply(ssrc, index, buffer, start, length);
    if (mkiLength > 0) buffer.set(this.mki, length);
    this.tag.write(buffer, length, Math.floor(index / 0x10000), length + mkiLength);
    this.keep(ssrc, window);
    window.accept(index);
    this.usage.use();
    return buffer.length === total ? buffer : buffer.subarray(0, total);
  }

  /**
   * RFC 3711 §3.3 for a receiver: index estimate, replay check, tag check, then decryption in place. Returns the
   * plain RTP packet as a view of `srtp` (whose bytes it overwrites).
   */
  unprotect(srtp: Buffer): Buffer {
    const mkiLength = this.mki.length;
    const end = srtp.length - mkiLength - this.tag.length;
    if (end < 12) throw new SrtpError('TOO_SHORT', `an SRTP packet of ${srtp.length} bytes cannot hold a header, MKI and tag`);
    const start = payloadOffset(srtp, end);
    if (mkiLength > 0 && !this.mki.equals(srtp.subarray(end, end + mkiLength))) throw new SrtpError('BAD_MKI', 'the packet names a master key we do not have');
    const ssrc = readUint32(srtp, 8);
    const known = this.streams.get(ssrc);
    if (!known && this.streams.size >= this.maxStreams) throw new SrtpError('TOO_MANY_STREAMS', `already ${this.streams.size} sources in this session`);
    const window = known ?? new ReplayWindow(this.windowSize);
    const index = estimateIndex(window.highest, (srtp[2]! << 8) | srtp[3]!);
    const replay = window.check(index);
    if (replay === 'REPLAYED') throw new SrtpError('REPLAYED', `index ${index} of SSRC ${ssrc} was already received`);
    if (replay === 'TOO_OLD') throw new SrtpError('TOO_OLD', `index ${index} of SSRC ${ssrc} is behind the replay window`);
    if (index > maxSrtpIndex) throw new SrtpError('KEY_EXHAUSTED', 'the 48-bit SRTP index is used up');
    this.usage.check();
    if (!this.tag.verify(srtp, end, Math.floor(index / 0x10000), end + mkiLength)) throw new SrtpError('AUTH_FAILED', 'the authentication tag does not match');
    this.cipher.apply(ssrc, index, srtp, start, end);
    this.keep(ssrc, window);
    window.accept(index);
    this.usage.use();
    return srtp.subarray(0, end);
  }

  private stream(ssrc: number): ReplayWindow {
    const window = this.streams.get(ssrc);
    if (window) return window;
    if (this.streams.size >= this.maxStreams) throw new SrtpError('TOO_MANY_STREAMS', `already ${this.streams.size} sources in this session`);
    return new ReplayWindow(this.windowSize);
  }

  private keep(ssrc: number, window: ReplayWindow): void {
    if (!this.streams.has(ssrc)) this.streams.set(ssrc, window);
  }
}

export function readUint32(data: Uint8Array, at: number): number {
  return ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
}
