import type { PhoneAudioPort } from '../api/audio-port.js';
import { countProblem, decodeAudioFrame, encodeAudioFrame } from '../api/audio-wire.js';

/** What one host saw of the audio frames crossing it. */
export interface AudioRelayStats {
  captureFrames: number;
  playbackFrames: number;
  /** Far-end frames not sent because the UI fell behind. */
  playbackDropped: number;
  refused: Record<string, number>;
}

/**
 * The host side of the audio bridge, the same for the WebSocket host and Electron IPC: microphone frames arrive as
 * audio-wire bytes (core/api/audio-wire.ts) and are decoded, checked and handed to the phone's audio port; far-end
 * frames go out encoded while the UI asks for them. A malformed frame is refused and counted, never passed on.
 */
export class AudioFrameRelay {
  private readonly stats: AudioRelayStats = { captureFrames: 0, playbackFrames: 0, playbackDropped: 0, refused: {} };
  private sequence = 0;

  constructor(private readonly port: PhoneAudioPort | undefined) {}

  /** Bytes from the UI: a capture frame, or a refusal counted with its reason. */
  receive(data: unknown): void {
    if (!this.port) return this.refuse('NO_AUDIO_PORT');
    const decoded = decodeAudioFrame(data);
    if (!decoded.ok) return this.refuse(decoded.problem);
    if (decoded.frame.kind !== 'capture') return this.refuse('BAD_KIND');
    this.stats.captureFrames++;
    this.port.capture(decoded.frame.callId, decoded.frame.samples);
  }

  /** Something the host itself refused (a frame from a page that is not the app's, a bad control message). */
  refuse(problem: string): void {
    countProblem(this.stats.refused, problem);
    this.port?.refuse?.(problem);
  }

  /**
   * Far-end frames to one UI until the returned function is called: `send` returns false when the UI is too far behind
   * (the frame is dropped and counted) and undefined when it sent it.
   */
  startPlayback(send: (frame: Uint8Array) => boolean | void): () => void {
    if (!this.port) return () => undefined;
    return this.port.onPlayback((callId, samples) => {
      const frame = encodeAudioFrame({ kind: 'playback', sequence: this.sequence++, callId, samples });
      if (send(frame) === false) this.stats.playbackDropped++;
      else this.stats.playbackFrames++;
    });
  }

  snapshot(): AudioRelayStats {
    return { ...this.stats, refused: { ...this.stats.refused } };
  }
}
