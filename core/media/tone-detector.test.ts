import { describe, expect, it } from 'vitest';
import { frameSamples, sampleRate, ToneSource } from './audio-frame.js';
import { RecentAudio } from './tone-detector.js';

describe('the audio a call keeps for checks (core/media/tone-detector.ts)', () => {
  const frames = (source: ToneSource, count: number, into: RecentAudio) => {
    const frame = new Int16Array(frameSamples);
    for (let i = 0; i < count; i++) {
      source.read(frame);
      into.write(frame);
    }
  };

  it('keeps the last two seconds by default, oldest first, and reflects what arrives now', () => {
    const recent = new RecentAudio();
    frames(new ToneSource(1000), 250, recent); // 5 s of 1 kHz
    expect(recent.samples()).toHaveLength(2 * sampleRate);
    expect(recent.toneShare(1000)).toBeGreaterThan(0.9);
    frames(new ToneSource(600), 100, recent); // then 2 s of 600 Hz: the 1 kHz is gone from the window
    expect(recent.toneShare(600)).toBeGreaterThan(0.9);
    expect(recent.toneShare(1000)).toBeLessThan(0.05);
  });

  it('costs nothing for a call that receives nothing, and only what arrived before the window fills', () => {
    const recent = new RecentAudio();
    expect(recent.samples()).toHaveLength(0);
    frames(new ToneSource(1000), 3, recent);
    expect(recent.samples()).toHaveLength(3 * frameSamples);
  });

  it('keeps nothing with zero seconds (a scripted run that checks no audio)', () => {
    const recent = new RecentAudio(0);
    frames(new ToneSource(1000), 50, recent);
    expect(recent.samples()).toHaveLength(0);
    expect(recent.toneShare(1000)).toBe(0);
  });
});
