import type { CallTone } from './call-tones.js';

/** A tone the phone plays by itself: its frequencies (mixed at equal level) and its on/off cadence, repeated. */
export interface ToneCadence {
  frequencies: readonly number[];
  /** Seconds on, off, on, off… from the start of one period. */
  cadence: readonly number[];
  /** Peak level of the mix, 0-1 of full scale. */
  level: number;
}

/**
 * The phone's own tones. The ringtone is the 400+450 Hz double ring (0.4 s on, 0.2 off, 0.4 on, 2 s off); the ringback
 * is 400 Hz, 1 s on, 2 s off, as Japanese networks send it while the far end rings; the call-waiting tone is two short
 * 440 Hz beeps every 4 s, quiet, over the call in progress.
 */
export const toneCadences: Record<CallTone, ToneCadence> = {
  ring: { frequencies: [400, 450], cadence: [0.4, 0.2, 0.4, 2.0], level: 0.6 },
  ringback: { frequencies: [400], cadence: [1.0, 2.0], level: 0.3 },
  waiting: { frequencies: [440], cadence: [0.15, 0.1, 0.15, 3.6], level: 0.25 },
};

/** Edges fade in and out over this long, so the tone starts and stops without a click. */
const rampSeconds = 0.005;

/** One period of a tone as float samples at `rate` (the player loops it): generated, no sound file needed. */
export function toneSamples(tone: ToneCadence, rate: number): Float32Array<ArrayBuffer> {
  const period = tone.cadence.reduce((sum, seconds) => sum + seconds, 0);
  const samples = new Float32Array(Math.round(period * rate));
  const ramp = Math.max(1, Math.round(rampSeconds * rate));
  let start = 0;
  tone.cadence.forEach((seconds, index) => {
    const length = Math.round(seconds * rate);
    if (index % 2 === 0) {
      for (let i = 0; i < length && start + i < samples.length; i++) {
        const t = (start + i) / rate;
        let mix = 0;
        for (const frequency of tone.frequencies) mix += Math.sin(2 * Math.PI * frequency * t);
        const edge = Math.min(1, i / ramp, (length - 1 - i) / ramp);
        samples[start + i] = (tone.level * edge * mix) / tone.frequencies.length;
      }
    }
    start += length;
  });
  return samples;
}
