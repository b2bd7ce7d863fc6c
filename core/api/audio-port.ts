/**
 * The audio bridge between a UI and the phone (ARCHITECTURE.md: "audio bridge (mic/speaker) over a message port"):
 * 20 ms frames of 16-bit PCM at 8 kHz, tagged by call id. The same shape on both sides of a host boundary: the Phone
 * offers it to hosts, and the UI's clients offer it to the renderer's audio bridge.
 */
export interface PhoneAudioPort {
  /** A microphone frame for a call (160 samples; anything else is refused and counted). */
  capture(callId: string, samples: Int16Array): void;
  /** Far-end frames, as the call plays them out. */
  onPlayback(listener: (callId: string, samples: Int16Array) => void): () => void;
  /** A host refused a frame before it reached the port (malformed bytes): counted with the port's own refusals. */
  refuse?(problem: string): void;
}

/** Audio runs at 8 kHz in 20 ms frames (RFC 3551 §4.5.14, ptime 20): what every frame on the port holds. */
export const audioPortRate = 8000;
export const audioPortFrameSamples = 160;

/** What a side of the audio port has seen: frames passed, and frames refused by reason. */
export interface AudioPortCounters {
  captured: number;
  played: number;
  /** Frames for a call that has no audio (ended, unknown). */
  unknownCall: number;
  refused: Record<string, number>;
}
