import { describe, expect, it } from 'vitest';
import { decodeAudioFrame, encodeAudioFrame, maxAudioFrameBytes, minAudioFrameBytes } from './audio-wire.js';

const samples = Int16Array.from({ length: 160 }, (_, i) => (i % 2 === 0 ? 32767 : -32768) + (i % 7));
const callId = '0b6f3a52-8d0e-4a43-b0fd-1f1c2b0f0a11';

describe('audio-port frames on the wire (core/api/audio-wire.ts)', () => {
  it('round-trips a frame bit-exactly, both kinds, with the sequence number wrapping', () => {
    for (const kind of ['capture', 'playback'] as const) {
      const bytes = encodeAudioFrame({ kind, sequence: 65537, callId, samples });
      expect(bytes.length).toBe(5 + callId.length + 320);
      const decoded = decodeAudioFrame(bytes);
      expect(decoded).toMatchObject({ ok: true, frame: { kind, sequence: 1, callId } });
      if (decoded.ok) expect([...decoded.frame.samples]).toEqual([...samples]);
    }
    // a Uint8Array that is a view into a larger buffer (as ws and IPC hand them over) decodes too
    const bytes = encodeAudioFrame({ kind: 'capture', sequence: 7, callId: 'c', samples });
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(decodeAudioFrame(padded.subarray(3))).toMatchObject({ ok: true, frame: { sequence: 7, callId: 'c' } });
    expect(decodeAudioFrame(bytes.buffer)).toMatchObject({ ok: true });
  });

  it('refuses malformed frames with the reason, never half-reading one', () => {
    const good = encodeAudioFrame({ kind: 'capture', sequence: 0, callId: 'call-1', samples });
    const mutate = (change: (b: Uint8Array) => Uint8Array | void): unknown => {
      const copy = Uint8Array.from(good);
      return decodeAudioFrame(change(copy) ?? copy);
    };
    expect(decodeAudioFrame('text')).toEqual({ ok: false, problem: 'NOT_BINARY' });
    expect(decodeAudioFrame({ length: 400 })).toEqual({ ok: false, problem: 'NOT_BINARY' });
    expect(decodeAudioFrame(new Uint8Array(minAudioFrameBytes - 1))).toEqual({ ok: false, problem: 'TOO_SHORT' });
    expect(decodeAudioFrame(new Uint8Array(maxAudioFrameBytes + 1))).toEqual({ ok: false, problem: 'TOO_LONG' });
    expect(decodeAudioFrame(new Uint8Array(64 * 1024))).toEqual({ ok: false, problem: 'TOO_LONG' });
    expect(mutate((b) => void (b[0] = 0x41))).toEqual({ ok: false, problem: 'BAD_MAGIC' });
    expect(mutate((b) => void (b[1] = 0x21))).toEqual({ ok: false, problem: 'BAD_VERSION' });
    expect(mutate((b) => void (b[1] = 0x13))).toEqual({ ok: false, problem: 'BAD_KIND' });
    expect(mutate((b) => void (b[4] = 0))).toEqual({ ok: false, problem: 'BAD_CALL_ID' });
    expect(mutate((b) => void (b[4] = 7))).toEqual({ ok: false, problem: 'BAD_LENGTH' });
    expect(mutate((b) => void (b[5] = 0x20))).toEqual({ ok: false, problem: 'BAD_CALL_ID' });
    expect(mutate((b) => b.subarray(0, b.length - 2))).toEqual({ ok: false, problem: 'BAD_LENGTH' });
  });

  it('will not frame what it could not read back', () => {
    expect(() => encodeAudioFrame({ kind: 'capture', sequence: 0, callId: 'a b', samples })).toThrow(expect.objectContaining({ code: 'BAD_CALL_ID' }));
    expect(() => encodeAudioFrame({ kind: 'capture', sequence: 0, callId: 'x'.repeat(65), samples })).toThrow(expect.objectContaining({ code: 'BAD_CALL_ID' }));
    expect(() => encodeAudioFrame({ kind: 'capture', sequence: 0, callId: 'ok', samples: new Int16Array(80) })).toThrow(expect.objectContaining({ code: 'BAD_LENGTH' }));
  });
});
