import { createPlainRtpMediaProvider } from '../media/plain-rtp-sdh.js';
import type { MediaFactoryProvider } from './media-factory.js';

/**
 * Plain RTP with G.711 and RFC 4733 events: the media every host gives its Phone. It latches onto a peer whose RTP
 * comes from elsewhere than its SDP names (behind a NAT, or signalling-only; RFC 4961), before anything came from there.
 */
export const defaultMediaProvider: MediaFactoryProvider = createPlainRtpMediaProvider({ latch: true });

/** The same media keeping none of the audio it receives (`recent`): for scripted calls nothing listens to. */
export const mediaWithoutRecentAudio: MediaFactoryProvider = createPlainRtpMediaProvider({ latch: true, recentAudioSeconds: 0 });
