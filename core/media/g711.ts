/** G.711 (ITU-T G.711, RFC 3551 §4.5.14): 8-bit µ-law (PCMU, PT 0) and A-law (PCMA, PT 8) from 16-bit linear PCM. */

const muBias = 0x84;
const muClip = 32635;

function encodeMuLawSample(sample: number): number {
  let value = sample;
  const sign = value < 0 ? 0x80 : 0;
  if (sign) value = -value;
  if (value > muClip) value = muClip;
  value += muBias;
  let exponent = 7;
  for (let mask = 0x4000; (value & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (value >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function decodeMuLawSample(byte: number): number {
  const value = ~byte & 0xff;
  const sign = value & 0x80;
  const exponent = (value >> 4) & 0x07;
  const mantissa = value & 0x0f;
  const magnitude = (((mantissa << 3) + muBias) << exponent) - muBias;
  return sign ? -magnitude : magnitude;
}

function encodeALawSample(sample: number): number {
  let value = sample;
  const sign = value >= 0 ? 0x80 : 0;
  if (!sign) value = -value - 1;
  if (value > 32767) value = 32767;
  let byte: number;
  if (value < 256) {
    byte = value >> 4;
  } else {
    let exponent = 7;
    for (let mask = 0x4000; (value & mask) === 0 && exponent > 1; mask >>= 1) exponent--;
    byte = (exponent << 4) | ((value >> (exponent + 3)) & 0x0f);
  }
  return (byte | sign) ^ 0x55;
}

function decodeALawSample(byte: number): number {
  const value = byte ^ 0x55;
  const sign = value & 0x80;
  const exponent = (value >> 4) & 0x07;
  const mantissa = value & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  if (magnitude > 32767) magnitude = 32767;
  return sign ? magnitude : -magnitude;
}

// Decoding is a table lookup: 256 entries per law.
const muLawTable = Int16Array.from({ length: 256 }, (_, i) => decodeMuLawSample(i));
const aLawTable = Int16Array.from({ length: 256 }, (_, i) => decodeALawSample(i));
// Encoding through a 64 Ki table keeps the per-call cost at one lookup per sample.
const muLawEncodeTable = Uint8Array.from({ length: 65536 }, (_, i) => encodeMuLawSample(i - 32768));
const aLawEncodeTable = Uint8Array.from({ length: 65536 }, (_, i) => encodeALawSample(i - 32768));

export type G711Law = 'PCMU' | 'PCMA';

export function encodeG711(law: G711Law, pcm: Int16Array, out = new Uint8Array(pcm.length)): Uint8Array {
  const table = law === 'PCMU' ? muLawEncodeTable : aLawEncodeTable;
  for (let i = 0; i < pcm.length; i++) out[i] = table[pcm[i]! + 32768]!;
  return out;
}

export function decodeG711(law: G711Law, bytes: Uint8Array, out: Int16Array = new Int16Array(bytes.length)): Int16Array {
  const table = law === 'PCMU' ? muLawTable : aLawTable;
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]!]!;
  return out;
}

/** The byte a silent frame encodes to (µ-law 0xFF, A-law 0xD5). */
export function g711Silence(law: G711Law): number {
  return law === 'PCMU' ? 0xff : 0xd5;
}
