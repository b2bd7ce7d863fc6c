import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng, encodePng, writePng, type RgbaImage } from './png.js';
import { compareImages } from './visual-compare.js';

function image(width: number, height: number, paint: (x: number, y: number) => [number, number, number, number]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(paint(x, y), (y * width + x) * 4);
  return { width, height, data };
}

/** A PNG written the way encoders do: every filter type, RGB (colour type 2). */
function filteredRgbPng(img: RgbaImage): Buffer {
  const stride = img.width * 3;
  const rgb = new Uint8Array(img.height * stride);
  for (let i = 0; i < img.width * img.height; i++) rgb.set(img.data.subarray(i * 4, i * 4 + 3), i * 3);
  const raw = Buffer.alloc(img.height * (stride + 1));
  for (let y = 0; y < img.height; y++) {
    const filter = y % 5;
    raw[y * (stride + 1)] = filter;
    for (let x = 0; x < stride; x++) {
      const value = rgb[y * stride + x]!;
      const a = x >= 3 ? rgb[y * stride + x - 3]! : 0;
      const b = y > 0 ? rgb[(y - 1) * stride + x]! : 0;
      const c = x >= 3 && y > 0 ? rgb[(y - 1) * stride + x - 3]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter]!;
      raw[y * (stride + 1) + 1 + x] = (value - predictor) & 0xff;
    }
  }
  return writePng(img.width, img.height, 2, raw);
}

const scene = (shift = 0, box = true) =>
  image(120, 80, (x, y) => {
    const inBox = box && x >= 20 && x < 70 && y >= 20 && y < 50;
    const text = y >= 60 && y < 66 && (x + shift) % 4 < 2; // a "line of text": thin strokes
    return inBox ? [47, 111, 222, 255] : text ? [30, 30, 30, 255] : [255, 255, 255, 255];
  });

describe('PNG decoding and the tolerant screenshot comparison (e2e/support)', () => {
  it('decodes every filter type bit-exactly, and round-trips its own encoder', () => {
    const original = image(37, 23, (x, y) => [(x * 7 + y) & 255, (x * y) & 255, (255 - x * 3) & 255, 255]);
    expect(decodePng(filteredRgbPng(original))).toEqual(original);
    const withAlpha = image(9, 4, (x, y) => [x * 20, y * 50, 7, (x * 30) & 255]);
    expect(decodePng(encodePng(withAlpha))).toEqual(withAlpha);
  });

  it('decodes a real Chromium screenshot when one is at hand, and refuses what it cannot read', () => {
    expect(() => decodePng(Buffer.from('GIF89a'))).toThrow(expect.objectContaining({ code: 'NOT_PNG' }));
    const png = encodePng(image(4, 4, () => [1, 2, 3, 255]));
    const corrupt = Buffer.from(png);
    corrupt[20] = corrupt[20]! ^ 0xff;
    expect(() => decodePng(corrupt)).toThrow(expect.objectContaining({ code: 'BAD_CRC' }));
    expect(() => decodePng(png.subarray(0, 40))).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
    const baselines = path.resolve(import.meta.dirname, '../baselines');
    for (const file of fs.existsSync(baselines) ? fs.readdirSync(baselines).filter((f) => f.endsWith('.png')) : []) {
      const decoded = decodePng(fs.readFileSync(path.join(baselines, file)));
      expect(decoded.width * decoded.height).toBeGreaterThan(0);
    }
  });

  it('accepts font-level noise and one-pixel shifts, and rejects a missing control or a colour change', () => {
    const base = scene();
    expect(compareImages(scene(1), base).ok).toBe(true);
    const noisy = scene();
    for (let i = 0; i < noisy.data.length; i += 4 * 7) noisy.data[i] = Math.max(0, noisy.data[i]! - 30); // anti-aliasing drift
    expect(compareImages(noisy, base).ok).toBe(true);
    expect(compareImages(scene(0, false), base)).toMatchObject({ ok: false });
    // the same luminance in another hue (blue → red, a state colour) is a change too
    const recoloured = scene();
    for (let i = 0; i < recoloured.data.length; i += 4) if (recoloured.data[i] === 47) recoloured.data.set([201, 60, 60, 255], i);
    expect(compareImages(recoloured, base).ok).toBe(false);
    expect(compareImages(image(120, 100, () => [255, 255, 255, 255]), base)).toMatchObject({ ok: false, reason: expect.stringMatching(/size/) });
  });
});
