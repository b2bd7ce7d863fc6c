import { SrtcpContext } from './srtcp.js';
import { SrtpContext } from './srtp-context.js';
import { SrtpError, type SrtpErrorCode } from './srtp-error.js';
import type { SrtpMasterKey, SrtpSuiteName } from './srtp-suite.js';

export interface SrtpSessionOptions {
  suite: SrtpSuiteName;
  /** Our master key: it protects what we send (the key of our own `a=crypto`, RFC 4568 §6.1). */
  local: SrtpMasterKey;
  /** The peer's master key: it checks and decrypts what we receive (the key of the peer's `a=crypto`). */
  remote: SrtpMasterKey;
  /** Replay window per source, 64 to 32768 packets (RFC 3711 §3.3.2); 128 by default. */
  replayWindow?: number;
  /** Sources per direction at most. */
  maxStreams?: number;
  /** The index of our first SRTCP packet (see SrtcpOptions.firstIndex). */
  firstSrtcpIndex?: number;
  /** Encrypt our SRTCP (E flag); true unless UNENCRYPTED_SRTCP was agreed. */
  encryptRtcp?: boolean;
}

/** An inbound packet either checks out (plain RTP/RTCP, a view of the buffer given) or is refused with a reason. */
export type SrtpUnprotectResult = { ok: true; packet: Buffer } | { ok: false; error: SrtpError };

export interface SrtpStats {
  suite: SrtpSuiteName;
  sentRtp: number;
  sentRtcp: number;
  receivedRtp: number;
  receivedRtcp: number;
  /** Refused inbound packets by reason: never played, never passed on. */
  rejected: Partial<Record<SrtpErrorCode, number>>;
}

/**
 * One call's SRTP and SRTCP (RFC 3711) with the two SDES keys (RFC 4568): ours protects what we send, the peer's
 * checks what arrives. Inbound packets never throw: a bad one comes back as a reason and is counted, so a socket
 * handler can drop it and carry on.
 */
export class SrtpSession {
  readonly suite: SrtpSuiteName;
  private readonly sendRtp: SrtpContext;
  private readonly sendRtcp: SrtcpContext;
  private readonly receiveRtp: SrtpContext;
  private readonly receiveRtcp: SrtcpContext;
  private readonly rejected: Partial<Record<SrtpErrorCode, number>> = {};
  private sentRtp = 0;
  private sentRtcp = 0;
  private receivedRtp = 0;
  private receivedRtcp = 0;

  constructor(options: SrtpSessionOptions) {
    this.suite = options.suite;
    const common = { suite: options.suite, ...(options.replayWindow !== undefined ? { replayWindow: options.replayWindow } : {}), ...(options.maxStreams !== undefined ? { maxStreams: options.maxStreams } : {}) };
    this.sendRtp = new SrtpContext({ ...common, key: options.local });
    this.receiveRtp = new SrtpContext({ ...common, key: options.remote });
    this.sendRtcp = new SrtcpContext(this.sendRtp, {
      ...common,
      ...(options.firstSrtcpIndex !== undefined ? { firstIndex: options.firstSrtcpIndex } : {}),
      ...(options.encryptRtcp !== undefined ? { encrypt: options.encryptRtcp } : {}),
    });
    this.receiveRtcp = new SrtcpContext(this.receiveRtp, common);
  }

  /** Protect one RTP packet of ours; throws SrtpError only for what a sender must never do (reuse an index, outlive the key). */
  protectRtp(rtp: Uint8Array): Buffer {
    const out = this.sendRtp.protect(rtp);
    this.sentRtp++;
    return out;
  }

  /** Bytes SRTP adds after each of our RTP packets (MKI and tag): room a sender can leave for `protectRtpInPlace`. */
  get rtpTrailerLength(): number {
    return this.sendRtp.trailerLength;
  }

  /** `protectRtp` without a copy: `buffer[0, length)` is the packet, followed by `rtpTrailerLength` free bytes. */
  protectRtpInPlace(buffer: Buffer, length: number): Buffer {
    const out = this.sendRtp.protectInPlace(buffer, length);
    this.sentRtp++;
    return out;
  }

  protectRtcp(rtcp: Uint8Array): Buffer {
    const out = this.sendRtcp.protect(rtcp);
    this.sentRtcp++;
    return out;
  }

  /** Check and decrypt one SRTP packet from the peer, in place. */
  unprotectRtp(srtp: Buffer): SrtpUnprotectResult {
    try {
      const packet = this.receiveRtp.unprotect(srtp);
      this.receivedRtp++;
      return { ok: true, packet };
    } catch (error) {
      return this.refuse(error);
    }
  }

  unprotectRtcp(srtcp: Buffer): SrtpUnprotectResult {
    try {
      const packet = this.receiveRtcp.unprotect(srtcp);
      this.receivedRtcp++;
      return { ok: true, packet };
    } catch (error) {
      return this.refuse(error);
    }
  }

  /** The rollover counter of one of our sources, or of the peer's (RFC 3711 §3.2.1). */
  rolloverCounter(direction: 'send' | 'receive', ssrc: number): number | undefined {
    return (direction === 'send' ? this.sendRtp : this.receiveRtp).rolloverCounter(ssrc);
  }

  stats(): SrtpStats {
    return { suite: this.suite, sentRtp: this.sentRtp, sentRtcp: this.sentRtcp, receivedRtp: this.receivedRtp, receivedRtcp: this.receivedRtcp, rejected: { ...this.rejected } };
  }

  private refuse(error: unknown): SrtpUnprotectResult {
    if (!(error instanceof SrtpError)) throw error; // a bug, not a bad packet: let it be seen
    this.rejected[error.code] = (this.rejected[error.code] ?? 0) + 1;
    return { ok: false, error };
  }
}
