import fs from 'node:fs';
import path from 'node:path';
import { decodePng, encodePng, type RgbaImage } from './png.js';

export interface CompareOptions {
  /** Side of the square cells luminance is averaged over (downscaling smooths font anti-aliasing away). */
  cell?: number;
  /** A cell differs when its mean luminance moved by more than this (0-255). */
  threshold?: number;
  /** The comparison fails when more than this share of cells differ. */
  maxDiffShare?: number;
  /** Sizes may differ by this share per axis (a line wrapping elsewhere); more is a layout change. */
  maxSizeDelta?: number;
}

export interface Comparison {
  ok: boolean;
  reason: string;
  diffShare: number;
  /** Baseline grid with differing cells painted red (for the artifacts). */
  diff?: RgbaImage;
}

/** Mean luma and chroma (Rec. 601 Y, Cb, Cr; alpha over white) of the cells of a grid laid over the image. */
function cellGrid(image: RgbaImage, columns: number, rows: number): Float64Array {
  const grid = new Float64Array(columns * rows * 3);
  const counts = new Uint32Array(columns * rows);
  for (let y = 0; y < image.height; y++) {
    const row = Math.min(rows - 1, Math.floor((y * rows) / image.height));
    for (let x = 0; x < image.width; x++) {
      const column = Math.min(columns - 1, Math.floor((x * columns) / image.width));
      const i = (y * image.width + x) * 4;
      const alpha = image.data[i + 3]! / 255;
      const [r, g, b] = [0, 1, 2].map((c) => image.data[i + c]! * alpha + 255 * (1 - alpha)) as [number, number, number];
      const cell = row * columns + column;
      grid[cell * 3]! += 0.299 * r + 0.587 * g + 0.114 * b;
      grid[cell * 3 + 1]! += -0.1687 * r - 0.3313 * g + 0.5 * b;
      grid[cell * 3 + 2]! += 0.5 * r - 0.4187 * g - 0.0813 * b;
      counts[cell]!++;
    }
  }
  for (let cell = 0; cell < counts.length; cell++) for (let k = 0; k < 3; k++) grid[cell * 3 + k] = counts[cell]! > 0 ? grid[cell * 3 + k]! / counts[cell]! : k === 0 ? 255 : 0;
  return grid;
}

/**
 * A tolerant visual comparison: both images become grids of mean luminance and colour (cells of `cell`×`cell`
 * baseline pixels, the actual image mapped onto the same grid), and it fails only when more than `maxDiffShare` of the
 * cells moved by more than `threshold` in luminance or in either colour-difference channel. Font hinting, sub-pixel anti-aliasing and one-pixel shifts stay under it; a missing control,
 * a different layout or a colour change do not.
 */
export function compareImages(actual: RgbaImage, baseline: RgbaImage, options: CompareOptions = {}): Comparison {
  const cell = options.cell ?? 6;
  const threshold = options.threshold ?? 40;
  const maxDiffShare = options.maxDiffShare ?? 0.02;
  const maxSizeDelta = options.maxSizeDelta ?? 0.05;
  const dw = Math.abs(actual.width - baseline.width) / baseline.width;
  const dh = Math.abs(actual.height - baseline.height) / baseline.height;
  if (dw > maxSizeDelta || dh > maxSizeDelta) {
    return { ok: false, reason: `size ${actual.width}×${actual.height} differs from the baseline's ${baseline.width}×${baseline.height}`, diffShare: 1 };
  }
  const columns = Math.max(1, Math.round(baseline.width / cell));
  const rows = Math.max(1, Math.round(baseline.height / cell));
  const a = cellGrid(actual, columns, rows);
  const b = cellGrid(baseline, columns, rows);
  const cells = columns * rows;
  const diff: RgbaImage = { width: columns, height: rows, data: new Uint8Array(cells * 4) };
  let differing = 0;
  for (let i = 0; i < cells; i++) {
    const moved = [0, 1, 2].some((k) => Math.abs(a[i * 3 + k]! - b[i * 3 + k]!) > threshold);
    if (moved) differing++;
    const grey = Math.round(b[i * 3]!);
    diff.data.set(moved ? [255, 0, 0, 255] : [grey, grey, grey, 255], i * 4);
  }
  const diffShare = differing / cells;
  const ok = diffShare <= maxDiffShare;
  return { ok, reason: `${(diffShare * 100).toFixed(2)} % of ${cells} cells differ (allowed ${(maxDiffShare * 100).toFixed(2)} %)`, diffShare, diff };
}

export const baselineDir = path.resolve(import.meta.dirname, '../baselines');
export const artifactDir = path.resolve(import.meta.dirname, '../../test-results/e2e');

/**
 * Compare a screenshot with `e2e/baselines/NAME.png`. `UPDATE_BASELINES=1` (re)writes the baseline instead; a missing
 * baseline is written on first run outside CI and fails in CI. On a mismatch the actual image and a diff grid are
 * left in test-results/e2e/.
 */
export function matchBaseline(name: string, screenshot: Buffer, options: CompareOptions = {}): Comparison {
  const file = path.join(baselineDir, `${name}.png`);
  if (process.env.UPDATE_BASELINES === '1' || (!fs.existsSync(file) && !process.env.CI)) {
    fs.mkdirSync(baselineDir, { recursive: true });
    fs.writeFileSync(file, screenshot);
    console.warn(`[baseline] wrote ${path.relative(process.cwd(), file)}`);
    return { ok: true, reason: 'baseline written', diffShare: 0 };
  }
  if (!fs.existsSync(file)) return { ok: false, reason: `no baseline ${file} (run with UPDATE_BASELINES=1)`, diffShare: 1 };
  const result = compareImages(decodePng(screenshot), decodePng(fs.readFileSync(file)), options);
  if (!result.ok) {
    fs.mkdirSync(artifactDir, { recursive: true });
    fs.writeFileSync(path.join(artifactDir, `${name}.actual.png`), screenshot);
    if (result.diff) fs.writeFileSync(path.join(artifactDir, `${name}.diff.png`), encodePng(result.diff));
  }
  return result;
}
