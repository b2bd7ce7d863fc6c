import { audioPortFrameSamples, type AudioPortCounters, type PhoneAudioPort } from '../api/audio-port.js';
import { countProblem } from '../api/audio-wire.js';
import { PcmPortSink, PcmPortSource } from '../media/audio-frame.js';
import type { MediaSession } from '../media/media-session.js';

interface RoutedCall {
  source: PcmPortSource;
  removeSink: () => void;
}

/**
 * Routes the audio of calls to a host's audio port (the desktop microphone and speaker through the renderer's audio
 * bridge): each call's media plays a bounded PCM port fed by `capture`, and its received frames go to every playback
 * listener, tagged by call id. Frames for calls without audio, or of the wrong size, are refused and counted.
 */
export class CallAudioPort implements PhoneAudioPort {
  private readonly calls = new Map<string, RoutedCall>();
  private readonly listeners = new Set<(callId: string, samples: Int16Array) => void>();
  private readonly counters: AudioPortCounters = { captured: 0, played: 0, unknownCall: 0, refused: {} };

  /** Route a call's media through the port (idempotent per call). */
  attach(callId: string, media: MediaSession): void {
    if (this.calls.has(callId)) return;
    const source = new PcmPortSource();
    media.play(source);
    const removeSink = media.addSink(
      new PcmPortSink((frame) => {
        this.counters.played++;
        for (const listener of this.listeners) {
          try {
            listener(callId, frame);
          } catch {
            // one faulty listener (a closed socket) must not silence the others
          }
        }
      }),
    );
    this.calls.set(callId, { source, removeSink });
  }

  detach(callId: string): void {
    const routed = this.calls.get(callId);
    if (!routed) return;
    this.calls.delete(callId);
    routed.removeSink();
  }

  capture(callId: string, samples: Int16Array): void {
    if (!(samples instanceof Int16Array) || samples.length !== audioPortFrameSamples) {
      countProblem(this.counters.refused, 'BAD_LENGTH');
      return;
    }
    const routed = this.calls.get(callId);
    if (!routed) {
      this.counters.unknownCall++;
      return;
    }
    this.counters.captured++;
    routed.source.push(Int16Array.from(samples));
  }

  onPlayback(listener: (callId: string, samples: Int16Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A host refused a frame before it reached the port (malformed bytes): counted here with the rest. */
  refuse(problem: string): void {
    countProblem(this.counters.refused, problem);
  }

  stats(): AudioPortCounters & { routedCalls: number; droppedCapture: number } {
    let dropped = 0;
    for (const routed of this.calls.values()) dropped += routed.source.dropped;
    return { ...this.counters, refused: { ...this.counters.refused }, routedCalls: this.calls.size, droppedCapture: dropped };
  }
}
