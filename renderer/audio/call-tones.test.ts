import { describe, expect, it } from 'vitest';
import type { CallSnapshot } from '../../core/api/phone-types.js';
import { callTone } from './call-tones.js';
import { toneCadences, toneSamples } from './ring-tones.js';
import { windowedToneShare } from './tone-share.js';

/** The loudest sample of a block (spread into Math.max a long array overflows the stack). */
const peak = (samples: Float32Array): number => samples.reduce((max, x) => Math.max(max, Math.abs(x)), 0);

const call = (change: Partial<CallSnapshot>): CallSnapshot => ({ id: 'c1', accountId: 'a', direction: 'outgoing', state: 'calling', remote: { shown: 'bob', uri: 'sip:bob@lab', anonymous: false }, sipCallId: 'x', startedAt: 0, localHold: false, remoteHold: false, muted: false, ...change });

describe('what the phone plays by itself (renderer/audio/call-tones.ts, ring-tones.ts)', () => {
  it('rings for an incoming call, beeps for one that waits behind a call, rings back while the far end rings without early media', () => {
    expect(callTone([])).toBeUndefined();
    expect(callTone([call({ direction: 'incoming', state: 'incoming' })])).toBe('ring');
    expect(callTone([call({ state: 'established' }), call({ id: 'c2', direction: 'incoming', state: 'incoming' })])).toBe('waiting');
    expect(callTone([call({ state: 'calling' })])).toBeUndefined();
    expect(callTone([call({ state: 'ringing' })])).toBe('ringback');
    const early = { localRtp: '127.0.0.1:4000', sending: false, receiving: true, packetsSent: 0, packetsReceived: 5, packetsLost: 0, lossPercent: 0, jitterMs: 0, dtmfReceived: '' };
    expect(callTone([call({ state: 'ringing', media: early })])).toBeUndefined(); // the network's own ringback is heard
    expect(callTone([{ ...call({ state: 'ringing' }), earlyMedia: true } as CallSnapshot])).toBeUndefined(); // the core's early-media flag
    // answered, rejected, cancelled or answered elsewhere: the call is no longer incoming, so nothing rings
    for (const state of ['established', 'terminated'] as const) expect(callTone([call({ direction: 'incoming', state })])).toBeUndefined();
  });

  it('generates the double ring at 400+450 Hz in its cadence, the ringback at 400 Hz 1 s on 2 s off, the waiting beep at 440 Hz', () => {
    const rate = 48_000;
    const ring = toneSamples(toneCadences.ring, rate);
    expect(ring.length).toBe(3 * rate);
    const at = (samples: Float32Array, from: number, to: number) => samples.subarray(Math.round(from * rate), Math.round(to * rate));
    const on = at(ring, 0.05, 0.35);
    expect(windowedToneShare(on, 400, rate)).toBeGreaterThan(0.4);
    expect(windowedToneShare(on, 450, rate)).toBeGreaterThan(0.4);
    expect(windowedToneShare(on, 400, rate) + windowedToneShare(on, 450, rate)).toBeGreaterThan(0.95);
    expect(windowedToneShare(on, 600, rate)).toBeLessThan(0.01);
    expect(peak(at(ring, 0.42, 0.58))).toBe(0); // the 0.2 s gap
    expect(windowedToneShare(at(ring, 0.65, 0.95), 450, rate)).toBeGreaterThan(0.4); // the second ring
    expect(peak(at(ring, 1.02, 2.98))).toBe(0); // 2 s off
    expect(peak(ring)).toBeLessThanOrEqual(toneCadences.ring.level + 1e-6);

    const ringback = toneSamples(toneCadences.ringback, rate);
    expect(ringback.length).toBe(3 * rate);
    expect(windowedToneShare(at(ringback, 0.1, 0.9), 400, rate)).toBeGreaterThan(0.95);
    expect(windowedToneShare(at(ringback, 0.1, 0.9), 450, rate)).toBeLessThan(0.02);
    expect(peak(at(ringback, 1.01, 2.99))).toBe(0);
    const waiting = toneSamples(toneCadences.waiting, rate);
    expect(waiting.length).toBe(4 * rate);
    expect(windowedToneShare(at(waiting, 0.01, 0.14), 440, rate)).toBeGreaterThan(0.9);
    // no click: the first and last samples of each burst are (near) zero
    expect(Math.abs(ring[0]!)).toBeLessThan(1e-6);
    expect(Math.abs(ring[Math.round(0.4 * rate) - 1]!)).toBeLessThan(1e-6);
  });
});
