import { PcmPortSink, PcmPortSource } from './audio-frame.js';
import type { MediaSession } from './media-session.js';

/**
 * Two calls' audio relayed into each other: what one leg receives, the other sends (decoded PCM, re-encoded with each
 * leg's own codec, so the legs need not share one). A forwarding phone uses it when the caller cannot be handed to
 * the target by REFER (docs/forwarding.md). Returns a function that stops the relay; each leg then sends silence.
 */
export function relayMedia(a: MediaSession, b: MediaSession): () => void {
  const toA = new PcmPortSource();
  const toB = new PcmPortSource();
  a.muted = false;
  b.muted = false;
  a.play(toA);
  b.play(toB);
  const stopA = a.addSink(new PcmPortSink((frame) => toB.push(frame)));
  const stopB = b.addSink(new PcmPortSink((frame) => toA.push(frame)));
  return () => {
    stopA();
    stopB();
  };
}
