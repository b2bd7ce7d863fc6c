import { frameSamples, sampleRate, type AudioSink } from './audio-frame.js';

/**
 * Goertzel analysis: the share (0-1) of the energy of `samples` that sits at `frequency`, frame by frame over the
 * frames that are not silent. A clean tone reads close to 1, speech or noise far lower.
 */
export function toneShare(samples: Int16Array, frequency: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let inBin = 0;
  let total = 0;
  for (let start = 0; start + frameSamples <= samples.length; start += frameSamples) {
    let energy = 0;
    let s1 = 0;
    let s2 = 0;
    for (let i = start; i < start + frameSamples; i++) {
      const sample = samples[i]!;
      energy += sample * sample;
      const s0 = sample + coefficient * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    if (energy < frameSamples * 100) continue; // below ~-50 dBFS: silence, not evidence either way
    total += energy;
    // A pure tone puts N/2 · its energy into its bin; scale so that a pure tone reads ~1.
    inBin += (2 * (s1 * s1 + s2 * s2 - coefficient * s1 * s2)) / frameSamples;
  }
  return total === 0 ? 0 : Math.min(1, inBin / total);
}

/** Keeps the most recent received audio (bounded) for expectations and diagnostics. */
export class RecentAudio implements AudioSink {
  private ring = new Int16Array(0);
  private written = 0;

  /**
   * `seconds` kept at most; the buffer grows as audio arrives, so a call that never receives costs nothing. Two
   * seconds hold 100 frames, plenty for a tone's share, and keep a load of many calls small (32 KB a call, not 160).
   * Zero seconds keep nothing (a run that checks no audio).
   */
  constructor(private readonly seconds = 2) {}

  write(frame: Int16Array): void {
    const capacity = Math.floor(this.seconds * sampleRate);
    if (capacity <= 0) return;
    if (this.ring.length < capacity && this.written + frame.length > this.ring.length) {
      const grown = new Int16Array(Math.min(capacity, Math.max(this.ring.length * 2, 8 * frameSamples)));
      grown.set(this.ring);
      this.ring = grown;
    }
    for (const sample of frame) this.ring[this.written++ % this.ring.length] = sample;
  }

  /** The kept samples, oldest first. */
  samples(): Int16Array {
    if (this.written <= this.ring.length) return this.ring.slice(0, this.written);
    const start = this.written % this.ring.length;
    return Int16Array.from([...this.ring.subarray(start), ...this.ring.subarray(0, start)]);
  }

  toneShare(frequency: number): number {
    return toneShare(this.samples(), frequency);
  }
}
