import { createPlainRtpMediaProvider } from '../media/plain-rtp-sdh.js';
import type { MediaFactoryProvider } from './media-factory.js';

/** Plain RTP with G.711 and RFC 4733 events: the media every host gives its Phone. */
export const defaultMediaProvider: MediaFactoryProvider = createPlainRtpMediaProvider();
