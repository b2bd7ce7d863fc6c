import type { SessionDescriptionHandlerFactory } from 'sip.js';

/** What the media layer needs to know to build a session description handler for one identity. */
export interface MediaContext {
  /** Address written into SDP o= and c=. */
  advertisedAddress: string;
  /** Address the RTP sockets bind. */
  bindAddress: string;
  portRange: { min: number; max: number };
  accountId: string;
  /** SRTP for this identity's calls; given only when its signalling is TLS or WSS (issue 18). */
  encryption?: 'required' | 'preferred';
  /** The leased port pool, when one manages the range (seed 003): RTP/RTCP pairs come from it. */
  rtpPairs?: { takeRtpPair(owner?: string): { rtp: number; release(): void } };
  /** The account's symmetric RTP latching (AccountConfig.latching); absent: the provider's own default. */
  latch?: boolean;
}

/** Builds the sip.js session description handler factory (our RTP media) for one identity. */
export type MediaFactoryProvider = ((context: MediaContext) => SessionDescriptionHandlerFactory) & {
  /** Why an SDP offer cannot be answered, or undefined when it can: such a call is refused with 488 before it rings. */
  offerProblem?: (sdp: string, encryption?: 'required' | 'preferred') => string | undefined;
};

/** The RTP port range when none is configured (as the identities use it), for the call log. */
export const defaultMediaPorts = { min: 16384, max: 32767 };

/** The media factory of an identity that never carries a call (a server probe, a leftover cleanup). */
export function throwawayMedia(provider: MediaFactoryProvider, portRange: { min: number; max: number } | undefined, accountId: string): SessionDescriptionHandlerFactory {
  return provider({ advertisedAddress: '127.0.0.1', bindAddress: '127.0.0.1', portRange: portRange ?? { min: 16384, max: 32767 }, accountId });
}
