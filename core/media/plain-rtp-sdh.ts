import type { BodyAndContentType, SessionDescriptionHandler, SessionDescriptionHandlerFactory } from 'sip.js';
import type { MediaClock } from './media-clock.js';
import { MediaError } from './media-error.js';
import { MediaSession, type MediaStats } from './media-session.js';
import { RtpPortAllocator, type PortRange, type RtpPairSource } from './rtp-port-allocator.js';
import { answerOffer, type AudioCodecName } from './sdp-negotiation.js';
import { parseSdp } from './sdp.js';

/** What the phone tells the media layer about one identity. */
export interface PlainRtpMediaContext {
  advertisedAddress: string;
  bindAddress: string;
  portRange: PortRange;
  /** SRTP with SDES keys for this identity's calls (MediaSessionOptions.encryption). */
  encryption?: 'required' | 'preferred';
  /** The phone's leased port pool, when it manages the range (seed 003): pairs come from it. */
  rtpPairs?: RtpPairSource;
  /** This identity's symmetric RTP latching, over the provider's `latch` default (an account's `latching`). */
  latch?: boolean;
}

export interface PlainRtpMediaOptions {
  codecs?: AudioCodecName[];
  clock?: MediaClock;
  jitterDepth?: number;
  rtcpIntervalMs?: number;
  /** Symmetric RTP: follow the peer's RTP to where it really comes from (MediaSessionOptions.latch). */
  latch?: boolean;
  /** Seconds of received audio each call keeps for tone checks (MediaSessionOptions.recentAudioSeconds). */
  recentAudioSeconds?: number;
}

/** The options our SipCall passes for hold and resume (sip.js hands them through untouched). */
interface HoldOption {
  hold?: boolean;
}

/**
 * sip.js's SessionDescriptionHandler for plain RTP: it runs the RFC 3264 offer/answer against a MediaSession and
 * exposes that session as `media`. An offer we cannot use is refused with a MediaError, which sip.js turns into a
 * 488 (Not Acceptable Here) for the INVITE.
 */
export class PlainRtpSessionDescriptionHandler implements SessionDescriptionHandler {
  media: MediaSession | undefined;
  private opening: Promise<MediaSession> | undefined;
  private pendingOffer: string | undefined;
  private offerOutstanding = false;
  private holdBeforeOffer = false;
  private closed = false;
  /** The peer's answer the media follows now (a 18x's early one, then the 2xx's). */
  appliedAnswer: string | undefined;

  constructor(
    private readonly context: PlainRtpMediaContext,
    private readonly allocator: RtpPortAllocator,
    private readonly options: PlainRtpMediaOptions,
  ) {}

  /** The media session, opened (its ports taken from the range) on first use. */
  session(): Promise<MediaSession> {
    if (this.closed) return Promise.reject(new MediaError('CLOSED', 'the call has ended'));
    this.opening ??= MediaSession.open({
      advertisedAddress: this.context.advertisedAddress,
      bindAddress: this.context.bindAddress,
      allocator: this.allocator,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      ...(this.options.codecs ? { codecs: this.options.codecs } : {}),
      ...(this.options.jitterDepth !== undefined ? { jitterDepth: this.options.jitterDepth } : {}),
      ...(this.options.rtcpIntervalMs !== undefined ? { rtcpIntervalMs: this.options.rtcpIntervalMs } : {}),
      ...((this.context.latch ?? this.options.latch) ? { latch: true } : {}),
      ...(this.context.encryption ? { encryption: this.context.encryption } : {}),
      ...(this.options.recentAudioSeconds !== undefined ? { recentAudioSeconds: this.options.recentAudioSeconds } : {}),
    }).then((media) => {
      if (this.closed) {
        media.close();
        throw new MediaError('CLOSED', 'the call has ended');
      }
      this.media = media;
      return media;
    });
    return this.opening;
  }

  async getDescription(options?: object): Promise<BodyAndContentType> {
    const media = await this.session();
    const hold = (options as HoldOption | undefined)?.hold;
    if (this.pendingOffer !== undefined) {
      const offer = this.pendingOffer;
      this.pendingOffer = undefined;
      return { body: media.acceptOffer(offer, hold ?? media.onHold), contentType: 'application/sdp' };
    }
    this.holdBeforeOffer = media.onHold;
    this.offerOutstanding = true;
    return { body: media.createOffer(hold ?? media.onHold), contentType: 'application/sdp' };
  }

  async setDescription(sdp: string): Promise<void> {
    const media = await this.session();
    if (this.offerOutstanding) {
      this.offerOutstanding = false;
      media.acceptAnswer(sdp);
      this.appliedAnswer = sdp;
      return;
    }
    media.checkOffer(sdp); // refuse a bad offer now, so the INVITE gets 488 rather than a half-made answer
    this.pendingOffer = sdp;
  }

  /**
   * Early media (RFC 3960 §3): the answer a 18x carried to our still-unanswered offer. The peer's audio plays; ours
   * waits for the 2xx (the callee has not answered, so the microphone stays ours). sip.js applies the answer again
   * through `setDescription` when the 2xx comes, which starts our sending.
   */
  async applyEarlyAnswer(sdp: string): Promise<void> {
    const media = await this.session();
    if (!this.offerOutstanding) return;
    media.acceptAnswer(sdp, { early: true });
    this.appliedAnswer = sdp;
  }

  /** An answer that replaces the one the media follows: the 2xx's, when it differs from the 18x's. */
  async applyAnswer(sdp: string): Promise<void> {
    const media = await this.session();
    media.acceptAnswer(sdp);
    this.appliedAnswer = sdp;
  }

  async rollbackDescription(): Promise<void> {
    if (!this.offerOutstanding) return;
    this.offerOutstanding = false;
    this.media?.rollback(this.holdBeforeOffer);
  }

  hasDescription(contentType: string): boolean {
    return contentType.toLowerCase().split(';')[0]!.trim() === 'application/sdp';
  }

  sendDtmf(tones: string): boolean {
    if (!this.media) return false;
    try {
      return this.media.sendDtmf(tones);
    } catch {
      return false;
    }
  }

  /**
   * sip.js keeps an ended session, and with it this handler, while its transactions last (up to 64·T1, RFC 6026
   * Timer M): the media session (its sockets, buffers and received audio) is let go at once, not kept that long. Its
   * last figures stay (`closedStats`): an unanswered call is told it ended after sip.js closed this handler.
   */
  close(): void {
    this.closed = true;
    this.closedStats ??= this.media?.stats();
    this.media?.close();
    this.media = undefined;
    this.opening = undefined;
  }

  /** The media session's figures when this handler closed (undefined before, or when it never opened one). */
  closedStats: MediaStats | undefined;
}

/**
 * The media provider hosts give the Phone: one port allocator per range, shared by every call of every identity
 * that uses the range, and a SessionDescriptionHandler per call.
 */
export function createPlainRtpMediaProvider(
  options: PlainRtpMediaOptions = {},
): ((context: PlainRtpMediaContext) => SessionDescriptionHandlerFactory) & { offerProblem: (sdp: string, encryption?: 'required' | 'preferred') => string | undefined } {
  const allocators = new Map<string, RtpPortAllocator>();
  const provide = (context: PlainRtpMediaContext): SessionDescriptionHandlerFactory => {
    const key = `${context.portRange.min}-${context.portRange.max}`;
    let allocator = context.rtpPairs ? new RtpPortAllocator(context.portRange, context.rtpPairs) : allocators.get(key);
    if (!allocator) {
      allocator = new RtpPortAllocator(context.portRange);
      allocators.set(key, allocator);
    }
    const shared = allocator;
    return () => new PlainRtpSessionDescriptionHandler(context, shared, options);
  };
  return Object.assign(provide, { offerProblem: (sdp: string, encryption?: 'required' | 'preferred') => offerProblem(sdp, options.codecs, encryption) });
}

/** Whether an SDP offer can be answered, without opening anything: undefined when it can, else why not. */
export function offerProblem(sdp: string, codecs: AudioCodecName[] = ['PCMU', 'PCMA'], encryption?: 'required' | 'preferred'): string | undefined {
  try {
    answerOffer(parseSdp(sdp), { address: '127.0.0.1', rtpPort: 9, codecs, direction: 'sendrecv', sessionId: '0', version: 0, ...(encryption ? { srtp: { policy: encryption } } : {}) });
    return undefined;
  } catch (error) {
    return error instanceof MediaError ? error.message : String(error);
  }
}
