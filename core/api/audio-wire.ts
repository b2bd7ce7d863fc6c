import { audioPortFrameSamples } from './audio-port.js';

/**
 * One audio-port frame as bytes, for hosts that cross a process boundary (the `veilphone serve` WebSocket as a binary
 * message, Electron IPC as a Uint8Array). Layout, all fixed-size except the call id:
 *
 * | bytes | field |
 * | --- | --- |
 * | 0 | magic `0x56` ("V") |
 * | 1 | version (high nibble, 1) · kind (low nibble: 1 capture = microphone to phone, 2 playback = far end to speaker) |
 * | 2-3 | sequence number, uint16 big-endian (wraps) |
 * | 4 | call id length n, 1-64 |
 * | 5 … 5+n-1 | call id, ASCII letters, digits, `-`, `_`, `.` |
 * | 5+n … | 160 samples, int16 little-endian (20 ms at 8 kHz) |
 *
 * A frame is exactly 5 + n + 320 bytes; anything else is refused with a reason, never half-read.
 */
export type AudioFrameKind = 'capture' | 'playback';

export interface AudioWireFrame {
  kind: AudioFrameKind;
  sequence: number;
  callId: string;
  samples: Int16Array;
}

export type AudioFrameProblem = 'NOT_BINARY' | 'TOO_SHORT' | 'TOO_LONG' | 'BAD_MAGIC' | 'BAD_VERSION' | 'BAD_KIND' | 'BAD_CALL_ID' | 'BAD_LENGTH';

export const audioFrameMagic = 0x56;
export const audioFrameVersion = 1;
export const maxAudioCallIdLength = 64;
const headerBytes = 5;
const sampleBytes = audioPortFrameSamples * 2;
export const minAudioFrameBytes = headerBytes + 1 + sampleBytes;
export const maxAudioFrameBytes = headerBytes + maxAudioCallIdLength + sampleBytes;
const kinds: Record<AudioFrameKind, number> = { capture: 1, playback: 2 };
const callIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

export class AudioFrameError extends Error {
  override readonly name = 'AudioFrameError';
  constructor(readonly code: AudioFrameProblem, message: string) {
    super(message);
  }
}

export function encodeAudioFrame(frame: AudioWireFrame): Uint8Array {
  if (!callIdPattern.test(frame.callId)) throw new AudioFrameError('BAD_CALL_ID', `call id "${frame.callId.slice(0, 80)}" cannot be framed`);
  if (frame.samples.length !== audioPortFrameSamples) throw new AudioFrameError('BAD_LENGTH', `a frame has ${audioPortFrameSamples} samples, got ${frame.samples.length}`);
  const n = frame.callId.length;
  const bytes = new Uint8Array(headerBytes + n + sampleBytes);
  const view = new DataView(bytes.buffer);
  bytes[0] = audioFrameMagic;
  bytes[1] = (audioFrameVersion << 4) | kinds[frame.kind];
  view.setUint16(2, frame.sequence & 0xffff, false);
  bytes[4] = n;
  for (let i = 0; i < n; i++) bytes[headerBytes + i] = frame.callId.charCodeAt(i);
  const offset = headerBytes + n;
  for (let i = 0; i < audioPortFrameSamples; i++) view.setInt16(offset + i * 2, frame.samples[i]!, true);
  return bytes;
}

/** Decode untrusted bytes; a malformed frame comes back as the reason it was refused. */
export function decodeAudioFrame(data: unknown): { ok: true; frame: AudioWireFrame } | { ok: false; problem: AudioFrameProblem } {
  let bytes: Uint8Array;
  if (data instanceof Uint8Array) bytes = data;
  else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else return { ok: false, problem: 'NOT_BINARY' };
  if (bytes.length > maxAudioFrameBytes) return { ok: false, problem: 'TOO_LONG' };
  if (bytes.length < minAudioFrameBytes) return { ok: false, problem: 'TOO_SHORT' };
  if (bytes[0] !== audioFrameMagic) return { ok: false, problem: 'BAD_MAGIC' };
  if (bytes[1]! >> 4 !== audioFrameVersion) return { ok: false, problem: 'BAD_VERSION' };
  const kindCode = bytes[1]! & 0x0f;
  const kind = kindCode === 1 ? 'capture' : kindCode === 2 ? 'playback' : undefined;
  if (!kind) return { ok: false, problem: 'BAD_KIND' };
  const n = bytes[4]!;
  if (n < 1 || n > maxAudioCallIdLength) return { ok: false, problem: 'BAD_CALL_ID' };
  if (bytes.length !== headerBytes + n + sampleBytes) return { ok: false, problem: 'BAD_LENGTH' };
  let callId = '';
  for (let i = 0; i < n; i++) callId += String.fromCharCode(bytes[headerBytes + i]!);
  if (!callIdPattern.test(callId)) return { ok: false, problem: 'BAD_CALL_ID' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Int16Array(audioPortFrameSamples);
  const offset = headerBytes + n;
  for (let i = 0; i < audioPortFrameSamples; i++) samples[i] = view.getInt16(offset + i * 2, true);
  return { ok: true, frame: { kind, sequence: view.getUint16(2, false), callId, samples } };
}

/** Counts of refused frames by reason (hosts keep one per connection and report them). */
export function countProblem(counters: Record<string, number>, problem: string): void {
  counters[problem] = (counters[problem] ?? 0) + 1;
}
