// Image facts for the photo detector: dimensions (image-size) and EXIF (exif-reader), found by our
// own walkers in each container — JPEG APP1, PNG eXIf, WebP EXIF, HEIF Exif item, TIFF itself —
// since the common EXIF library falls short on WebP and HEIC. Every read is bounds-checked; a
// broken image gives fewer facts, never an exception out of this module.

import type exifReaderFunction from 'exif-reader';
import type * as ImageSize from 'image-size';
import { lazyRequire } from '../../util/lazy-require.js';

const exifReader = lazyRequire<typeof exifReaderFunction>('exif-reader');
const imageSizeModule = lazyRequire<typeof ImageSize>('image-size');
import type { Sniffed } from './magic.js';

export interface ImageMetadata {
  readonly width?: number;
  readonly height?: number;
  readonly make?: string;
  readonly model?: string;
  readonly software?: string;
  /** Capture time as written by the camera (local time, no zone): `2014-10-12 18:30:05`. */
  readonly takenAt?: string;
  /** Decimal degrees, [latitude, longitude]. */
  readonly gps?: readonly [number, number];
  /** The EXIF block had exposure tags (a camera wrote it, not an editor). */
  readonly hasExposure: boolean;
}

function jpegExif(bytes: Buffer): Buffer | undefined {
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image, start of scan: no more metadata
    if (marker >= 0xd0 && marker <= 0xd7) { at += 2; continue; }
    const length = bytes.readUInt16BE(at + 2);
    if (length < 2) return undefined;
    if (marker === 0xe1 && bytes.toString('latin1', at + 4, at + 10) === 'Exif\0\0') return bytes.subarray(at + 4, Math.min(bytes.length, at + 2 + length));
    at += 2 + length;
  }
  return undefined;
}

function pngExif(bytes: Buffer): Buffer | undefined {
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (type === 'eXIf') return bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length));
    if (type === 'IDAT' || type === 'IEND') return undefined;
    at += 12 + length;
  }
  return undefined;
}

function webpExif(bytes: Buffer): Buffer | undefined {
  for (let at = 12; at + 8 <= bytes.length;) {
    const type = bytes.toString('latin1', at, at + 4);
    const length = bytes.readUInt32LE(at + 4);
    if (type === 'EXIF') return bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length));
    at += 8 + length + (length % 2);
  }
  return undefined;
}

interface Box { type: string; start: number; end: number; body: number }

function boxes(bytes: Buffer, start: number, end: number): Box[] {
  const found: Box[] = [];
  for (let at = start; at + 8 <= end && found.length < 256;) {
    let size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    let body = at + 8;
    if (size === 1 && at + 16 <= end) {
      size = Number(bytes.readBigUInt64BE(at + 8));
      body = at + 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < 8 || at + size > end) break;
    found.push({ type, start: at, end: at + size, body });
    at += size;
  }
  return found;
}

function readUIntN(bytes: Buffer, at: number, size: number): number {
  if (size === 0) return 0;
  if (size === 4) return bytes.readUInt32BE(at);
  if (size === 8) return Number(bytes.readBigUInt64BE(at));
  if (size === 2) return bytes.readUInt16BE(at);
  return 0;
}

/** HEIF: the `Exif` item named in `iinf`, located by `iloc` (offset = base_offset + extent_offset). */
function heifExif(bytes: Buffer): Buffer | undefined {
  const meta = boxes(bytes, 0, bytes.length).find((b) => b.type === 'meta');
  if (!meta) return undefined;
  const inner = boxes(bytes, meta.body + 4, meta.end); // meta is a full box: 4 bytes version+flags
  const iinf = inner.find((b) => b.type === 'iinf');
  const iloc = inner.find((b) => b.type === 'iloc');
  if (!iinf || !iloc) return undefined;
  const iinfVersion = bytes[iinf.body]!;
  const entriesStart = iinf.body + 4 + (iinfVersion === 0 ? 2 : 4);
  let exifId: number | undefined;
  for (const infe of boxes(bytes, entriesStart, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const version = bytes[infe.body]!;
    if (version < 2) continue;
    const id = version === 2 ? bytes.readUInt16BE(infe.body + 4) : bytes.readUInt32BE(infe.body + 4);
    const typeAt = infe.body + 4 + (version === 2 ? 2 : 4) + 2;
    if (bytes.toString('latin1', typeAt, typeAt + 4) === 'Exif') exifId = id;
  }
  if (exifId === undefined) return undefined;
  const version = bytes[iloc.body]!;
  let at = iloc.body + 4;
  const offsetSize = bytes[at]! >> 4;
  const lengthSize = bytes[at]! & 0x0f;
  const baseOffsetSize = bytes[at + 1]! >> 4;
  const indexSize = version === 1 || version === 2 ? bytes[at + 1]! & 0x0f : 0;
  at += 2;
  const count = version < 2 ? bytes.readUInt16BE(at) : bytes.readUInt32BE(at);
  at += version < 2 ? 2 : 4;
  for (let i = 0; i < count && at < iloc.end; i++) {
    const id = version < 2 ? bytes.readUInt16BE(at) : bytes.readUInt32BE(at);
    at += version < 2 ? 2 : 4;
    if (version === 1 || version === 2) at += 2; // construction method
    at += 2; // data reference index
    const baseOffset = readUIntN(bytes, at, baseOffsetSize);
    at += baseOffsetSize;
    const extents = bytes.readUInt16BE(at);
    at += 2;
    for (let e = 0; e < extents; e++) {
      at += indexSize;
      const offset = readUIntN(bytes, at, offsetSize);
      at += offsetSize;
      const length = readUIntN(bytes, at, lengthSize);
      at += lengthSize;
      if (id === exifId && e === 0) {
        const start = baseOffset + offset;
        if (start + 4 > bytes.length) return undefined;
        // The item starts with a 4-byte offset to the TIFF header; some writers omit it.
        const tiffOffset = bytes.readUInt32BE(start);
        const item = bytes.subarray(start, Math.min(bytes.length, start + (length || bytes.length)));
        const tiffAt = 4 + tiffOffset;
        if (tiffAt < item.length && /^(II\*\0|MM\0\*)/.test(item.toString('latin1', tiffAt, tiffAt + 4))) return item.subarray(tiffAt);
        const search = item.indexOf('II*\0') >= 0 ? item.indexOf('II*\0') : item.indexOf('MM\0*');
        return search >= 0 ? item.subarray(search) : undefined;
      }
    }
  }
  return undefined;
}

function exifBlob(bytes: Buffer, type: Sniffed): Buffer | undefined {
  switch (type) {
    case 'image/jpeg': return jpegExif(bytes);
    case 'image/png': return pngExif(bytes);
    case 'image/webp': return webpExif(bytes);
    case 'image/heic':
    case 'image/avif': return heifExif(bytes);
    case 'image/tiff': return bytes;
    default: return undefined;
  }
}

function rationalDegrees(value: unknown, ref: unknown): number | undefined {
  if (!Array.isArray(value) || value.length < 3 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) return undefined;
  const [d, m, s] = value as number[];
  const degrees = d! + m! / 60 + s! / 3600;
  return ref === 'S' || ref === 'W' ? -degrees : degrees;
}

function cleanText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.replace(/\0+$/g, '').trim();
  return text.length > 0 ? text.slice(0, 100) : undefined;
}

function formatDate(value: unknown): string | undefined {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 19).replace('T', ' ');
  return undefined;
}

export function readImageMetadata(bytes: Buffer, type: Sniffed): ImageMetadata {
  let width: number | undefined;
  let height: number | undefined;
  try {
    const size = imageSizeModule().imageSize(bytes);
    width = size.width;
    height = size.height;
  } catch {
    // a truncated or odd image: no dimensions
  }
  let exif: ReturnType<typeof exifReaderFunction> | undefined;
  try {
    const blob = exifBlob(bytes, type);
    // exif-reader wants "Exif\0\0" or a TIFF header first; WebP writers add the prefix or not.
    if (blob && blob.length > 8) exif = exifReader()(blob);
  } catch {
    // malformed EXIF: the image is still an image
  }
  const gpsInfo = exif?.GPSInfo as Record<string, unknown> | undefined;
  const lat = rationalDegrees(gpsInfo?.['GPSLatitude'], gpsInfo?.['GPSLatitudeRef']);
  const lon = rationalDegrees(gpsInfo?.['GPSLongitude'], gpsInfo?.['GPSLongitudeRef']);
  const validGps = lat !== undefined && lon !== undefined && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 && !(lat === 0 && lon === 0);
  const photo = exif?.Photo as Record<string, unknown> | undefined;
  const image = exif?.Image as Record<string, unknown> | undefined;
  const make = cleanText(image?.['Make']);
  const model = cleanText(image?.['Model']);
  const software = cleanText(image?.['Software']);
  const takenAt = formatDate(photo?.['DateTimeOriginal']) ?? formatDate(image?.['DateTime']);
  return {
    ...(width ? { width } : {}),
    ...(height ? { height } : {}),
    ...(make ? { make } : {}),
    ...(model ? { model } : {}),
    ...(software ? { software } : {}),
    ...(takenAt ? { takenAt } : {}),
    ...(validGps ? { gps: [Math.round(lat * 1e6) / 1e6, Math.round(lon * 1e6) / 1e6] as const } : {}),
    hasExposure: photo !== undefined && (photo['ExposureTime'] !== undefined || photo['FNumber'] !== undefined || photo['ISOSpeedRatings'] !== undefined),
  };
}
