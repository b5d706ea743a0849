// A photo's thumbnail for the report: made with sharp (libvips), turned upright by its EXIF
// orientation, at most 240 px and a few tens of kB, always re-encoded as JPEG — the page embeds
// our own encoding, never bytes the device sent. Formats sharp's prebuilt binaries cannot read
// (HEIC with HEVC) fall back to the JPEG thumbnail a camera embeds in EXIF; failing that, the
// report shows a placeholder that says why.

import sharp from 'sharp';
import { describeError } from '../util/errors.js';
import { limits } from '../limits.js';

export type Thumbnail =
  | { readonly kind: 'image'; readonly dataUri: string; readonly bytes: number; readonly source: 'photo' | 'embedded thumbnail' }
  | { readonly kind: 'placeholder'; readonly reason: string };

const EDGE = 240;
/** Pixels sharp may decode for one photo (a 100-megapixel bomb is refused, not decoded). */
const MAX_INPUT_PIXELS = limits.thumbnailInputPixels;

async function encode(bytes: Buffer): Promise<Buffer> {
  return sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', sequentialRead: true })
    .rotate()
    .resize(EDGE, EDGE, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 68, mozjpeg: true })
    .toBuffer();
}

/**
 * The first whole JPEG inside a file after its own start: the EXIF thumbnail of a JPEG or a HEIC
 * (SOI FFD8FF … EOI FFD9), looked for in the first 256 kB.
 */
export function embeddedJpeg(bytes: Buffer): Buffer | undefined {
  const window = bytes.subarray(0, 256 * 1024);
  let start = window.indexOf(Buffer.from([0xff, 0xd8, 0xff]), 1);
  while (start > 0) {
    const end = window.indexOf(Buffer.from([0xff, 0xd9]), start + 3);
    if (end < 0) return undefined;
    if (end - start > 200) return bytes.subarray(start, end + 2);
    start = window.indexOf(Buffer.from([0xff, 0xd8, 0xff]), start + 3);
  }
  return undefined;
}

/** libvips' error, said in a line a reader understands. */
function whyNot(error: string): string {
  if (/compression format has not been built in|Support for this compr/i.test(error)) return 'HEIC photos (HEVC) cannot be decoded by the bundled image library, and this one carries no JPEG thumbnail';
  if (/pixel limit/i.test(error)) return `larger than ${MAX_INPUT_PIXELS / 1_000_000} megapixels, not decoded`;
  const lines = error.split('\n').map((l) => l.trim()).filter(Boolean);
  return `not a readable image (${(lines.at(-1) ?? 'unknown error').slice(0, 120)})`;
}

export async function makeThumbnail(bytes: Buffer): Promise<Thumbnail> {
  let firstError: string;
  try {
    const out = await encode(bytes);
    return { kind: 'image', dataUri: `data:image/jpeg;base64,${out.toString('base64')}`, bytes: out.length, source: 'photo' };
  } catch (error) {
    firstError = describeError(error);
  }
  const embedded = embeddedJpeg(bytes);
  if (embedded) {
    try {
      const out = await encode(embedded);
      return { kind: 'image', dataUri: `data:image/jpeg;base64,${out.toString('base64')}`, bytes: out.length, source: 'embedded thumbnail' };
    } catch {
      // fall through to the placeholder
    }
  }
  return { kind: 'placeholder', reason: `no preview: ${whyNot(firstError)}` };
}
