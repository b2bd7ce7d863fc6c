import zlib from 'node:zlib';

/** An image as 8-bit RGBA rows, top to bottom. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export class PngError extends Error {
  override readonly name = 'PngError';
  constructor(readonly code: 'NOT_PNG' | 'TRUNCATED' | 'BAD_CRC' | 'UNSUPPORTED' | 'BAD_DATA', message: string) {
    super(message);
  }
}

/**
 * A small PNG decoder (PNG spec §5, §6 filters, §7 scanlines) for the screenshots Chromium writes: bit depth 8,
 * grey, grey+alpha, RGB or RGBA, not interlaced. Anything else is refused with a code, not misread.
 */
export function decodePng(file: Uint8Array): RgbaImage {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length < 8 || !bytes.subarray(0, 8).equals(signature)) throw new PngError('NOT_PNG', 'not a PNG file');
  let offset = 8;
  let header: { width: number; height: number; depth: number; color: number; interlace: number } | undefined;
  const idat: Buffer[] = [];
  for (;;) {
    if (offset + 12 > bytes.length) throw new PngError('TRUNCATED', 'the file ends inside a chunk');
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    if (offset + 12 + length > bytes.length) throw new PngError('TRUNCATED', `chunk ${type} runs past the end`);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    const crc = bytes.readUInt32BE(offset + 8 + length);
    if (zlib.crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== crc) throw new PngError('BAD_CRC', `chunk ${type} fails its CRC`);
    offset += 12 + length;
    if (type === 'IHDR') {
      header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8]!, color: body[9]!, interlace: body[12]! };
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
  }
  if (!header) throw new PngError('BAD_DATA', 'no IHDR chunk');
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[header.color];
  if (header.depth !== 8 || channels === undefined || header.interlace !== 0) {
    throw new PngError('UNSUPPORTED', `bit depth ${header.depth}, colour type ${header.color}, interlace ${header.interlace}`);
  }
  const { width, height } = header;
  if (width === 0 || height === 0 || width * height > 64 * 1024 * 1024) throw new PngError('UNSUPPORTED', `size ${width}×${height}`);
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(Buffer.concat(idat));
  } catch (error) {
    throw new PngError('BAD_DATA', `image data does not inflate: ${(error as Error).message}`);
  }
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new PngError('TRUNCATED', 'fewer scanlines than the height');
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    const up = (y - 1) * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[out + x - channels]! : 0;
      const b = y > 0 ? pixels[up + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[up + x - channels]! : 0;
      let predictor: number;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new PngError('BAD_DATA', `scanline ${y} has filter type ${filter}`);
      }
      pixels[out + x] = (line[x]! + predictor) & 0xff;
    }
  }
  const data = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < width * height; i++, j += channels) {
    const [r, g, b, alpha] = channels === 1 ? [pixels[j]!, pixels[j]!, pixels[j]!, 255] : channels === 2 ? [pixels[j]!, pixels[j]!, pixels[j]!, pixels[j + 1]!] : channels === 3 ? [pixels[j]!, pixels[j + 1]!, pixels[j + 2]!, 255] : [pixels[j]!, pixels[j + 1]!, pixels[j + 2]!, pixels[j + 3]!];
    data.set([r, g, b, alpha], i * 4);
  }
  return { width, height, data };
}

/** One chunk (PNG §5.3): length, type, body, CRC over type and body. */
function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

/**
 * A whole PNG of 8-bit samples from already filtered scanlines (each row led by its filter byte), in one IDAT.
 * `colourType` 6 is RGBA, 2 is RGB.
 */
export function writePng(width: number, height: number, colourType: 2 | 6, filteredRows: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colourType;
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(filteredRows)), chunk('IEND', Buffer.alloc(0))]);
}

/** Write RGBA as a PNG (filter 0, one IDAT): for diff images beside failed comparisons. */
export function encodePng(image: RgbaImage): Buffer {
  const raw = Buffer.alloc(image.height * (image.width * 4 + 1));
  for (let y = 0; y < image.height; y++) raw.set(image.data.subarray(y * image.width * 4, (y + 1) * image.width * 4), y * (image.width * 4 + 1) + 1);
  return writePng(image.width, image.height, 6, raw);
}
