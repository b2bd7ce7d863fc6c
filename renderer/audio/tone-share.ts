/**
 * Goertzel analysis of 8 kHz audio in 20 ms frames: the share (0-1) of the energy of the non-silent frames that sits
 * at `frequency`. A clean tone reads close to 1, speech or noise far lower. (The same measure as core/media's tone
 * detector; the renderer may only import core/api, so the few lines live here too.)
 */
export function toneShare(frames: readonly Int16Array[], frequency: number, rate = 8000): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / rate);
  let inBin = 0;
  let total = 0;
  for (const frame of frames) {
    let energy = 0;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < frame.length; i++) {
      const sample = frame[i]!;
      energy += sample * sample;
      const s0 = sample + coefficient * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    if (energy < frame.length * 100) continue; // below about -50 dBFS: silence, no evidence either way
    total += energy;
    inBin += (2 * (s1 * s1 + s2 * s2 - coefficient * s1 * s2)) / frame.length;
  }
  return total === 0 ? 0 : Math.min(1, inBin / total);
}

/** RMS of 16-bit samples as 0-1 of full scale. */
export function rmsLevel(samples: Int16Array): number {
  let energy = 0;
  for (let i = 0; i < samples.length; i++) energy += samples[i]! * samples[i]!;
  return samples.length === 0 ? 0 : Math.sqrt(energy / samples.length) / 32768;
}

/**
 * The share (0-1) of a block of float samples' energy at `frequency`, Hann-windowed (the block is what an AnalyserNode
 * hands over: any length, not aligned with the tone, so the window keeps two tones 50 Hz apart from leaking into each
 * other). Normalised so that a pure tone at `frequency` reads 1; silence reads 0.
 */
export function windowedToneShare(samples: Float32Array, frequency: number, rate: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / rate);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  let windowSum = 0;
  let windowSquares = 0;
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1 || 1));
    const x = samples[i]! * w;
    energy += x * x;
    windowSum += w;
    windowSquares += w * w;
    const s0 = x + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  if (energy < n * 1e-8) return 0;
  const power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  return Math.min(1, (power * 2 * windowSquares) / (windowSum * windowSum * energy));
}
