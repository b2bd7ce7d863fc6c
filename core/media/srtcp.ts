import { HmacSha1Tag } from './srtp-auth.js';
import { readUint32, type KeyUsage, type SrtpContext } from './srtp-context.js';
import { SrtpError } from './srtp-error.js';
import { AesCmCipher } from './srtp-keys.js';
import { defaultReplayWindow, ReplayWindow } from './srtp-replay.js';

/** RFC 3711 §3.4: the SRTCP index is 31 bits; a master key protects at most 2^31 SRTCP packets (§9.2). */
const maxSrtcpIndex = 0x7fffffff;
const eFlag = 0x80000000;

export interface SrtcpOptions {
  replayWindow?: number;
  maxStreams?: number;
  /**
   * The index of the first SRTCP packet we send. RFC 3711 §3.4 sets the index to zero before the first packet is
   * sent; libsrtp increments before sending, so its first packet carries 1. Receivers accept either.
   */
  firstIndex?: number;
  /** Set the E flag and encrypt (RFC 3711 §3.4); false sends authenticated clear RTCP (RFC 4568 UNENCRYPTED_SRTCP). */
  encrypt?: boolean;
}

/**
 * SRTCP (RFC 3711 §3.4) for one master key in one direction: the RTCP session keys of the SRTP context beside it,
 * an explicit 31-bit index per source with the E flag, an 80-bit tag for both suites (RFC 4568 §6.2), a replay
 * window per source. Methods throw SrtpError.
 */
export class SrtcpContext {
  private readonly cipher: AesCmCipher;
  private readonly tag: HmacSha1Tag;
  private readonly usage: KeyUsage;
  private readonly mki: Buffer;
  private readonly nextIndex = new Map<number, number>();
  private readonly windows = new Map<number, ReplayWindow>();
  private readonly windowSize: number;
  private readonly maxStreams: number;
  private readonly firstIndex: number;
  private readonly encrypt: boolean;

  constructor(srtp: SrtpContext, options: SrtcpOptions = {}) {
    this.cipher = new AesCmCipher(srtp.rtcpKeys.encryptionKey, srtp.rtcpKeys.salt);
    this.tag = new HmacSha1Tag(srtp.rtcpKeys.authenticationKey, srtp.suite.rtcpTagLength);
    this.usage = srtp.usage;
    this.mki = srtp.mki;
    this.windowSize = options.replayWindow ?? defaultReplayWindow;
    this.maxStreams = options.maxStreams ?? 16;
    this.firstIndex = options.firstIndex ?? 0;
    this.encrypt = options.encrypt ?? true;
    if (!Number.isInteger(this.firstIndex) || this.firstIndex < 0 || this.firstIndex > maxSrtcpIndex) throw new RangeError(`an SRTCP index is 0 to 2^31-1, not ${this.firstIndex}`);
    new ReplayWindow(this.windowSize);
  }

  /** RFC 3711 §3.4 for a sender: header, encrypted rest, E flag with index, MKI, tag — in a new buffer. */
  protect(rtcp: Uint8Array): Buffer {
    const length = rtcp.length;
    if (length < 8 || rtcp[0]! >> 6 !== 2) throw new SrtpError('BAD_HEADER', 'not an RTCP version 2 packet with a sender SSRC');
    const ssrc = readUint32(rtcp, 4);
    const known = this.nextIndex.get(ssrc);
    if (known === undefined && this.nextIndex.size >= this.maxStreams) throw new SrtpError('TOO_MANY_STREAMS', `already ${this.nextIndex.size} sources in this session`);
    const index = known ?? this.firstIndex;
    if (index > maxSrtcpIndex) throw new SrtpError('KEY_EXHAUSTED', 'the 31-bit SRTCP index is used up: the master key must be replaced');
    this.usage.check();
    const mkiLength = this.mki.length;
    const out = Buffer.allocUnsafe(length + 4 + mkiLength + this.tag.length);
    out.set(rtcp, 0);
    if (this.encrypt) this.cipher.apply(ssrc, index, out, 8, length);
    out.writeUInt32BE(((this.encrypt ? eFlag : 0) | index) >>> 0, length);
    if (mkiLength > 0) out.set(this.mki, length + 4);
    this.tag.write(out, length + 4, undefined, length + 4 + mkiLength);
    this.nextIndex.set(ssrc, index + 1);
    this.usage.use();
    return out;
  }

  /** RFC 3711 §3.4 for a receiver: replay and tag checks, then decryption in place when E is set; a view of `srtcp`. */
  unprotect(srtcp: Buffer): Buffer {
    const mkiLength = this.mki.length;
    const trailer = srtcp.length - this.tag.length - mkiLength - 4;
    if (trailer < 8) throw new SrtpError('TOO_SHORT', `an SRTCP packet of ${srtcp.length} bytes cannot hold a header, index, MKI and tag`);
    if (srtcp[0]! >> 6 !== 2) throw new SrtpError('BAD_HEADER', 'not an RTCP version 2 packet');
    if (mkiLength > 0 && !this.mki.equals(srtcp.subarray(trailer + 4, trailer + 4 + mkiLength))) throw new SrtpError('BAD_MKI', 'the packet names a master key we do not have');
    const ssrc = readUint32(srtcp, 4);
    const word = readUint32(srtcp, trailer);
    const index = word & maxSrtcpIndex;
    const known = this.windows.get(ssrc);
    if (!known && this.windows.size >= this.maxStreams) throw new SrtpError('TOO_MANY_STREAMS', `already ${this.windows.size} sources in this session`);
    const window = known ?? new ReplayWindow(this.windowSize);
    const replay = window.check(index);
    if (replay === 'REPLAYED') throw new SrtpError('REPLAYED', `SRTCP index ${index} of SSRC ${ssrc} was already received`);
    if (replay === 'TOO_OLD') throw new SrtpError('TOO_OLD', `SRTCP index ${index} of SSRC ${ssrc} is behind the replay window`);
    this.usage.check();
    if (!this.tag.verify(srtcp, trailer + 4, undefined, trailer + 4 + mkiLength)) throw new SrtpError('AUTH_FAILED', 'the authentication tag does not match');
    if (word & eFlag) this.cipher.apply(ssrc, index, srtcp, 8, trailer);
    if (!known) this.windows.set(ssrc, window);
    window.accept(index);
    this.usage.use();
    return srtcp.subarray(0, trailer);
  }
}
