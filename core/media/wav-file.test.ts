import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MediaError } from './media-error.js';
import { toneShare } from './tone-detector.js';
import { decodeWav, encodeWav, readWav, WavFileSink } from './wav-file.js';

function wav(options: { format: number; channels: number; rate: number; bits: number; data: Buffer }): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + options.data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(options.format, 20);
  header.writeUInt16LE(options.channels, 22);
  header.writeUInt32LE(options.rate, 24);
  header.writeUInt32LE((options.rate * options.channels * options.bits) / 8, 28);
  header.writeUInt16LE((options.channels * options.bits) / 8, 32);
  header.writeUInt16LE(options.bits, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(options.data.length, 40);
  return Buffer.concat([header, options.data]);
}

function sine(rate: number, hz: number, seconds: number, channels = 1): Buffer {
  const out = Buffer.alloc(rate * seconds * 2 * channels);
  for (let i = 0; i < rate * seconds; i++) for (let c = 0; c < channels; c++) out.writeInt16LE(Math.round(9000 * Math.sin((2 * Math.PI * hz * i) / rate)), (i * channels + c) * 2);
  return out;
}

describe('WAV files', () => {
  it('reads 8 kHz mono PCM as is and round-trips through encodeWav', () => {
    const audio = decodeWav(encodeWav(Int16Array.from([1, -2, 3])));
    expect([...audio.samples]).toEqual([1, -2, 3]);
  });

  it('resamples 44.1 kHz stereo to 8 kHz mono keeping the tone', () => {
    const audio = decodeWav(wav({ format: 1, channels: 2, rate: 44100, bits: 16, data: sine(44100, 1000, 1, 2) }));
    expect(audio.samples.length).toBe(8000);
    expect(toneShare(audio.samples, 1000)).toBeGreaterThan(0.9);
    expect(audio.format).toBe('PCM 16-bit 2-channel 44100 Hz');
  });

  it('names the file and its format when it cannot play it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-wav-'));
    const file = path.join(dir, 'float.wav');
    fs.writeFileSync(file, wav({ format: 3, channels: 1, rate: 8000, bits: 32, data: Buffer.alloc(64) }));
    expect(() => readWav(file)).toThrow(MediaError);
    expect(() => readWav(file)).toThrow(`${file}: format 3 32-bit 1-channel 8000 Hz: supported are PCM 8/16-bit and G.711 µ-law/A-law`);
    fs.writeFileSync(file, 'not a wav');
    expect(() => readWav(file)).toThrow(/not a RIFF\/WAVE file/);
    expect(() => readWav(path.join(dir, 'missing.wav'))).toThrow(/ENOENT/);
    fs.rmSync(dir, { recursive: true });
  });

  it('records to a WAV file whose header matches what was written', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-wav-'));
    const file = path.join(dir, 'rec.wav');
    const sink = new WavFileSink(file);
    sink.write(new Int16Array(160).fill(7));
    sink.write(new Int16Array(160).fill(-7));
    sink.close();
    const audio = readWav(file);
    expect(audio.samples.length).toBe(320);
    expect([audio.samples[0], audio.samples[319]]).toEqual([7, -7]);
    fs.rmSync(dir, { recursive: true });
  });
});
