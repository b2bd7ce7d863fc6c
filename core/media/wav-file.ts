import fs from 'node:fs';
import { sampleRate, type AudioSink } from './audio-frame.js';
import { decodeG711 } from './g711.js';
import { MediaError } from './media-error.js';

/** What a WAV file held, as 8 kHz mono 16-bit samples. */
export interface WavAudio {
  samples: Int16Array;
  /** The file's own format, for messages. */
  format: string;
}

const maxWavBytes = 64 * 1024 * 1024;

/**
 * Read a WAV file (RIFF/WAVE) as 8 kHz mono: PCM 8/16-bit, or G.711 µ-law/A-law, mono or stereo, any sample rate
 * (resampled). Anything else gets a MediaError naming the file and what it holds.
 */
export function readWav(file: string): WavAudio {
  let data: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > maxWavBytes) throw new MediaError('UNSUPPORTED_WAV', `${file}: ${size} bytes is larger than the ${maxWavBytes} a call plays`);
    data = fs.readFileSync(file);
  } catch (error) {
    if (error instanceof MediaError) throw error;
    throw new MediaError('WAV_UNREADABLE', `${file}: ${(error as Error).message}`);
  }
  return decodeWav(data, file);
}

export function decodeWav(data: Buffer, name = 'WAV data'): WavAudio {
  const unsupported = (what: string): MediaError => new MediaError('UNSUPPORTED_WAV', `${name}: ${what}`);
  if (data.length < 12 || data.toString('latin1', 0, 4) !== 'RIFF' || data.toString('latin1', 8, 12) !== 'WAVE') throw unsupported('not a RIFF/WAVE file');
  let offset = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let body: Buffer | undefined;
  while (offset + 8 <= data.length) {
    const id = data.toString('latin1', offset, offset + 4);
    const size = data.readUInt32LE(offset + 4);
    const start = offset + 8;
    const end = Math.min(data.length, start + size);
    if (id === 'fmt ') {
      if (size < 16 || end - start < 16) throw unsupported('truncated fmt chunk');
      let format = data.readUInt16LE(start);
      if (format === 0xfffe && end - start >= 26) format = data.readUInt16LE(start + 24); // WAVE_FORMAT_EXTENSIBLE: sub-format GUID's first word
      fmt = { format, channels: data.readUInt16LE(start + 2), rate: data.readUInt32LE(start + 4), bits: data.readUInt16LE(start + 14) };
    } else if (id === 'data') {
      body = data.subarray(start, end);
    }
    offset = start + size + (size % 2);
  }
  if (!fmt) throw unsupported('no fmt chunk');
  if (!body) throw unsupported('no data chunk');
  const formatName = { 1: 'PCM', 6: 'A-law', 7: 'µ-law' }[fmt.format];
  const described = `${formatName ?? `format ${fmt.format}`} ${fmt.bits}-bit ${fmt.channels}-channel ${fmt.rate} Hz`;
  if (fmt.channels < 1 || fmt.channels > 2) throw unsupported(`${described}: only mono or stereo is supported`);
  if (fmt.rate < 4000 || fmt.rate > 192_000) throw unsupported(`${described}: sample rate out of range`);
  let mono: Int16Array;
  const frames = Math.floor(body.length / ((fmt.bits / 8) * fmt.channels));
  const sample = (i: number, channel: number): number => {
    const index = i * fmt!.channels + channel;
    if (fmt!.format === 1 && fmt!.bits === 16) return body!.readInt16LE(index * 2);
    if (fmt!.format === 1 && fmt!.bits === 8) return (body![index]! - 128) << 8;
    return decodeG711(fmt!.format === 7 ? 'PCMU' : 'PCMA', body!.subarray(index, index + 1))[0]!;
  };
  const supported = (fmt.format === 1 && (fmt.bits === 16 || fmt.bits === 8)) || ((fmt.format === 6 || fmt.format === 7) && fmt.bits === 8);
  if (!supported) throw unsupported(`${described}: supported are PCM 8/16-bit and G.711 µ-law/A-law`);
  mono = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < fmt.channels; c++) sum += sample(i, c);
    mono[i] = Math.round(sum / fmt.channels);
  }
  if (fmt.rate !== sampleRate) mono = resample(mono, fmt.rate, sampleRate);
  return { samples: mono, format: described };
}

/** Resample by averaging over each output interval when going down (a box low-pass) and linear interpolation up. */
export function resample(input: Int16Array, from: number, to: number): Int16Array {
  const length = Math.floor((input.length * to) / from);
  const out = new Int16Array(length);
  const ratio = from / to;
  for (let i = 0; i < length; i++) {
    const start = i * ratio;
    if (ratio > 1) {
      const a = Math.floor(start);
      const b = Math.min(input.length, Math.floor(start + ratio));
      let sum = 0;
      for (let j = a; j < b; j++) sum += input[j]!;
      out[i] = Math.round(sum / Math.max(1, b - a));
    } else {
      const a = Math.floor(start);
      const frac = start - a;
      out[i] = Math.round((input[a] ?? 0) * (1 - frac) + (input[Math.min(a + 1, input.length - 1)] ?? 0) * frac);
    }
  }
  return out;
}

/** Encode 8 kHz mono PCM as a 16-bit WAV file. */
export function encodeWav(samples: Int16Array, rate = sampleRate): Buffer {
  const out = Buffer.alloc(44 + samples.length * 2);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + samples.length * 2, 4);
  out.write('WAVE', 8, 'latin1');
  out.write('fmt ', 12, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, 44 + i * 2);
  return out;
}

/** Records received audio to a WAV file: appended as it arrives, the header fixed when it closes. */
export class WavFileSink implements AudioSink {
  private readonly fd: number;
  private bytes = 0;
  private closed = false;

  constructor(readonly file: string) {
    try {
      this.fd = fs.openSync(file, 'w');
      fs.writeSync(this.fd, encodeWav(new Int16Array(0)));
    } catch (error) {
      throw new MediaError('WAV_UNREADABLE', `${file}: ${(error as Error).message}`);
    }
  }

  write(frame: Int16Array): void {
    if (this.closed) return;
    const chunk = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    fs.writeSync(this.fd, chunk, 0, chunk.length, 44 + this.bytes);
    this.bytes += chunk.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const sizes = Buffer.alloc(4);
    sizes.writeUInt32LE(36 + this.bytes, 0);
    fs.writeSync(this.fd, sizes, 0, 4, 4);
    sizes.writeUInt32LE(this.bytes, 0);
    fs.writeSync(this.fd, sizes, 0, 4, 40);
    fs.closeSync(this.fd);
  }
}
