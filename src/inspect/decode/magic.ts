// File signatures: what a run of bytes is, from its first bytes (and, for photos, where in a
// larger blob one starts). Pure and cheap: every layer is sniffed.

export type Sniffed =
  | 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp' | 'image/heic' | 'image/avif' | 'image/tiff'
  | 'application/gzip' | 'application/zstd' | 'application/zlib' | 'application/pdf' | 'application/zip'
  | 'video/mp4' | 'text/vcard';

const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

function ascii(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('latin1', start, Math.min(end, bytes.length));
}

/**
 * Whether `text` (ASCII) stands in `bytes` at `offset`, compared byte by byte: sniff() runs
 * several times on every layer, and making a string of each signature's bytes to compare was a
 * tenth of a small flow's inspection (Buffer slices and their garbage) in a profile.
 * `anyCase`: letters of the bytes in either case (`text` then in upper case).
 */
function hasAscii(bytes: Buffer, offset: number, text: string, anyCase = false): boolean {
  if (offset + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) {
    const b = bytes[offset + i]!;
    if ((anyCase && b >= 0x61 && b <= 0x7a ? b - 0x20 : b) !== text.charCodeAt(i)) return false;
  }
  return true;
}

/** The ISO-BMFF brands of an `ftyp` box at `offset` (major first, then the compatible list). */
export function ftypBrands(bytes: Buffer, offset = 0): string[] {
  if (bytes.length < offset + 16 || !hasAscii(bytes, offset + 4, 'ftyp')) return [];
  const size = bytes.readUInt32BE(offset);
  if (size < 16 || size > 4096) return [];
  const end = Math.min(offset + size, bytes.length);
  const brands = [ascii(bytes, offset + 8, offset + 12)];
  for (let at = offset + 16; at + 4 <= end; at += 4) brands.push(ascii(bytes, at, at + 4));
  return brands;
}

export function sniff(bytes: Buffer): Sniffed | undefined {
  if (bytes.length < 4) return undefined;
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  if (b0 === 0xff && b1 === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) return 'image/png';
  if (hasAscii(bytes, 0, 'GIF87a') || hasAscii(bytes, 0, 'GIF89a')) return 'image/gif';
  if (hasAscii(bytes, 0, 'RIFF') && hasAscii(bytes, 8, 'WEBP')) return 'image/webp';
  const brands = ftypBrands(bytes);
  if (brands.length > 0) {
    if (brands.some((b) => AVIF_BRANDS.has(b))) return 'image/avif';
    if (brands.some((b) => HEIF_BRANDS.has(b))) return 'image/heic';
    return 'video/mp4';
  }
  if ((b0 === 0x49 && b1 === 0x49 && bytes[2] === 0x2a && bytes[3] === 0x00) || (b0 === 0x4d && b1 === 0x4d && bytes[2] === 0x00 && bytes[3] === 0x2a)) return 'image/tiff';
  if (b0 === 0x1f && b1 === 0x8b && bytes[2] === 0x08) return 'application/gzip';
  if (bytes.readUInt32LE(0) === 0xfd2fb528) return 'application/zstd';
  // zlib: CM 8, window <= 32 KiB, header checksum (CMF*256 + FLG) % 31 == 0, no preset dictionary.
  if ((b0 & 0x0f) === 8 && b0 >> 4 <= 7 && ((b0 << 8) | b1) % 31 === 0 && (b1 & 0x20) === 0) return 'application/zlib';
  if (hasAscii(bytes, 0, '%PDF-')) return 'application/pdf';
  if (b0 === 0x50 && b1 === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'application/zip';
  if (hasAscii(bytes, 0, 'BEGIN:VCARD', true)) return 'text/vcard';
  return undefined;
}

export function isImage(type: Sniffed | undefined): boolean {
  return type !== undefined && type.startsWith('image/');
}

/**
 * Where an embedded photo starts inside a larger blob that is not itself a photo (a protobuf,
 * a custom container): the first JPEG SOI followed by a marker, or a PNG signature.
 * Scans at most `maxScanBytes`.
 */
export function findEmbeddedImage(bytes: Buffer, maxScanBytes = 8 * 1024 * 1024): number | undefined {
  const limit = Math.min(bytes.length, maxScanBytes);
  for (let at = bytes.indexOf(0xff, 1); at >= 0 && at + 4 < limit; at = bytes.indexOf(0xff, at + 1)) {
    // FF D8 FF then an APPn, DQT or SOF marker: a JPEG start, not just any FF D8.
    if (bytes[at + 1] === 0xd8 && bytes[at + 2] === 0xff && (bytes[at + 3]! >= 0xc0)) return at;
  }
  const png = bytes.indexOf(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 1);
  if (png > 0 && png < limit) return png;
  return undefined;
}
