import { describe, expect, it } from 'vitest';
import { JitterBuffer } from './jitter-buffer.js';

const frame = (value: number): Int16Array => new Int16Array(160).fill(value);
const first = (f: { samples: Int16Array } | undefined): number | undefined => f?.samples[0];

describe('JitterBuffer', () => {
  it('waits for its depth, then plays in sequence order whatever the arrival order', () => {
    const jb = new JitterBuffer(3);
    jb.push(11, frame(11));
    expect(jb.pop()).toBeUndefined();
    jb.push(10, frame(10));
    jb.push(12, frame(12));
    expect([first(jb.pop()), first(jb.pop()), first(jb.pop())]).toEqual([10, 11, 12]);
  });

  it('conceals a gap by repeating the last frame at half level, then silence, and counts it', () => {
    const jb = new JitterBuffer(2);
    jb.push(1, frame(1000));
    jb.push(2, frame(2000));
    jb.push(5, frame(5000));
    expect(first(jb.pop())).toBe(1000);
    expect(first(jb.pop())).toBe(2000);
    const gap1 = jb.pop()!;
    const gap2 = jb.pop()!;
    expect([gap1.concealed, first(gap1), gap2.concealed, first(gap2)]).toEqual([true, 1000, true, 0]);
    expect(first(jb.pop())).toBe(5000);
    expect(jb.concealed).toBe(2);
  });

  it('counts a packet that arrives after its playout time as late and drops duplicates', () => {
    const jb = new JitterBuffer(2);
    jb.push(1, frame(1));
    jb.push(2, frame(2));
    jb.pop();
    jb.pop();
    expect(jb.push(1, frame(1))).toBe('late');
    jb.push(3, frame(3));
    expect(jb.push(3, frame(3))).toBe('duplicate');
    expect(jb.late).toBe(1);
  });

  it('handles the 16-bit sequence wrap', () => {
    const jb = new JitterBuffer(2);
    jb.push(65535, frame(1));
    jb.push(0, frame(2));
    jb.push(1, frame(3));
    expect([first(jb.pop()), first(jb.pop()), first(jb.pop())]).toEqual([1, 2, 3]);
  });

  it('stops playing after a long silence and starts again when frames return', () => {
    const jb = new JitterBuffer(1);
    jb.push(1, frame(1));
    jb.pop();
    for (let i = 0; i < 5; i++) expect(jb.pop()?.concealed).toBe(true);
    expect(jb.pop()).toBeUndefined();
    jb.push(50, frame(50));
    expect(first(jb.pop())).toBe(50);
  });

  it('hands played frames out again for decoding, never one still queued, still read by its caller or repeated by concealment', () => {
    const jb = new JitterBuffer(2);
    const made = new Set<Int16Array>();
    const decode = (sequence: number): void => {
      const pcm = jb.frame().fill(sequence); // as MediaSession decodes a packet
      made.add(pcm);
      jb.push(sequence, pcm);
    };
    decode(1);
    decode(2);
    const heard: number[] = [];
    for (let sequence = 3; sequence <= 200; sequence++) {
      decode(sequence);
      const played = jb.pop()!;
      heard.push(played.samples[0]!);
      expect(played.samples.every((v) => v === played.samples[0])).toBe(true); // never overwritten while queued
    }
    expect(heard).toEqual(Array.from({ length: 198 }, (_, i) => i + 1));
    expect(made.size).toBeLessThanOrEqual(6); // a handful of frames in turn, not one per packet

    // a gap: the first concealed frame repeats the last one at half level, from a frame of its own
    expect(jb.pop()!.samples[0]).toBe(199);
    const last = jb.pop()!; // 200, the last one queued
    const gap = jb.pop()!;
    expect([last.samples[0], gap.concealed, gap.samples[0]]).toEqual([200, true, 100]);
    expect(gap.samples).not.toBe(last.samples);
  });
});
