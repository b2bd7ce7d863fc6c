import fs from 'node:fs';

/** A mono 16-bit PCM WAV of a sine tone (Chromium's fake microphone plays it in a loop). */
export function writeToneWav(file: string, frequency: number, options: { rate?: number; seconds?: number; amplitude?: number } = {}): void {
  const rate = options.rate ?? 48000;
  const samples = Math.round(rate * (options.seconds ?? 2));
  const amplitude = options.amplitude ?? 8000;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0, 'latin1');
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8, 'latin1');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'latin1');
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) wav.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / rate)), 44 + i * 2);
  fs.writeFileSync(file, wav);
}
