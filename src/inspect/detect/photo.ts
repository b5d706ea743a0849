// Photos leaving the device: JPEG, PNG, GIF, WebP, HEIC/AVIF, TIFF at the start of any layer, or
// embedded in a binary blob. A camera photo or a screenshot is told apart from icons and UI
// assets by a score (EXIF, size, dimensions, file name); only photos become findings.

import crypto from 'node:crypto';
import { readImageMetadata, type ImageMetadata } from '../decode/image-metadata.js';
import { findEmbeddedImage, isImage, sniff, type Sniffed } from '../decode/magic.js';
import type { FindingDraft } from '../../model/finding.js';
import type { Detector, View } from './detector.js';

const FORMAT_NAME: Partial<Record<Sniffed, string>> = {
  'image/jpeg': 'JPEG', 'image/png': 'PNG', 'image/gif': 'GIF', 'image/webp': 'WebP', 'image/heic': 'HEIC', 'image/avif': 'AVIF', 'image/tiff': 'TIFF',
};

const CAMERA_FILE = /^(IMG|PXL|DSC|DSCN|DCIM|MVIMG|VID|PANO|Photo|photo)[_-]?\d|^\d{8}_\d{6}/;
const SCREENSHOT_FILE = /^Screen ?shot|^Screenshot|^Capture d.écran/i;
const ASSET_FILE = /(icon|logo|avatar|sprite|emoji|badge|button|thumb|favicon|banner)/i;

export interface PhotoVerdict {
  readonly score: number;
  readonly reasons: string[];
  readonly kind: 'camera photo' | 'screenshot' | 'image';
}

/** How much an image looks like a personal photo rather than an asset. >= 3 is reported. */
export function scorePhoto(meta: ImageMetadata, bytes: number, type: Sniffed, view: Pick<View, 'direction' | 'fileName'>): PhotoVerdict {
  let score = 0;
  const reasons: string[] = [];
  const add = (points: number, why: string): void => {
    score += points;
    reasons.push(`${points > 0 ? '+' : ''}${points} ${why}`);
  };
  if (meta.make || meta.model) add(3, 'camera make/model in EXIF');
  if (meta.gps) add(3, 'GPS position in EXIF');
  if (meta.takenAt) add(1, 'capture time in EXIF');
  if (meta.hasExposure) add(1, 'exposure settings in EXIF');
  const longSide = Math.max(meta.width ?? 0, meta.height ?? 0);
  const shortSide = Math.min(meta.width ?? 0, meta.height ?? 0);
  if (longSide >= 1000) add(2, `${meta.width}x${meta.height} is a camera or screen size`);
  else if (longSide >= 480 && shortSide >= 320) add(1, 'medium size');
  if (longSide > 0 && longSide <= 256) add(-4, 'icon-sized');
  if (bytes >= 100 * 1024) add(1, 'over 100 KB');
  if (bytes < 8 * 1024) add(-2, 'under 8 KB');
  if (type === 'image/gif') add(-2, 'GIF');
  if (meta.width && meta.height && meta.width === meta.height && longSide <= 512) add(-2, 'small square');
  const name = view.fileName ?? '';
  if (CAMERA_FILE.test(name)) add(3, `camera file name ${name}`);
  if (SCREENSHOT_FILE.test(name)) add(3, `screenshot file name ${name}`);
  if (ASSET_FILE.test(name)) add(-3, `asset file name ${name}`);
  if (view.direction === 'request') add(1, 'sent by the device');
  else add(-1, 'sent to the device');
  const kind = SCREENSHOT_FILE.test(name) ? 'screenshot' : meta.make || meta.model || meta.hasExposure || CAMERA_FILE.test(name) ? 'camera photo' : 'image';
  return { score, reasons, kind };
}

function hemisphere(value: number, positive: string, negative: string): string {
  return `${Math.abs(value).toFixed(3)} ${value >= 0 ? positive : negative}`;
}

export function describePhoto(format: string, meta: ImageMetadata, kind: PhotoVerdict['kind']): string {
  const parts = [`${format} ${kind === 'image' ? 'photo' : kind}${meta.width && meta.height ? ` ${meta.width}x${meta.height}` : ''}`];
  const camera = [meta.make, meta.model && !meta.model.startsWith(meta.make ?? '\0') ? meta.model : meta.make ? undefined : meta.model].filter(Boolean).join(' ');
  if (camera) parts.push(`from ${camera}`);
  if (meta.takenAt) parts.push(`taken ${meta.takenAt.slice(0, 16)}`);
  if (meta.gps) parts.push(`GPS ${hemisphere(meta.gps[0], 'N', 'S')} ${hemisphere(meta.gps[1], 'E', 'W')}`);
  return parts.join(', ');
}

function photoFinding(view: View, bytes: Buffer, type: Sniffed, extraPath: string[]): FindingDraft[] {
  const meta = readImageMetadata(bytes, type);
  const verdict = scorePhoto(meta, bytes.length, type, view);
  if (verdict.score < 3) return [];
  const format = FORMAT_NAME[type] ?? type;
  const camera = [meta.make, meta.model].filter(Boolean).join(' ');
  return [{
    category: 'photo',
    severity: 'high',
    direction: view.direction,
    detector: `photo/${format.toLowerCase()}`,
    summary: describePhoto(format, meta, verdict.kind),
    evidence: {
      path: [...view.path, ...extraPath, type],
      bytes: bytes.length,
      sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
      ...(view.fileName ? { excerpt: view.fileName } : {}),
    },
    details: {
      format, kind: verdict.kind,
      ...(meta.width ? { width: meta.width, height: meta.height } : {}),
      ...(meta.make ? { make: meta.make } : {}),
      ...(meta.model ? { model: meta.model } : {}),
      ...(camera ? { camera } : {}),
      ...(meta.takenAt ? { takenAt: meta.takenAt } : {}),
      ...(meta.gps ? { gps: meta.gps } : {}),
      ...(meta.software ? { software: meta.software } : {}),
      ...(view.fileName ? { fileName: view.fileName } : {}),
      ...(view.flow.tags.includes('inspected:partial') ? { partial: true } : {}),
      score: verdict.score, reasons: verdict.reasons,
    },
  }];
}

function isOpaqueContainer(view: View): boolean {
  if (view.origin === 'stream' || view.decoded) return false;
  const type = view.contentType ?? '';
  if (/^(text\/|multipart\/|message\/)|json|xml|x-www-form-urlencoded/.test(type)) return false;
  const head = view.bytes.toString('latin1', 0, 2);
  return head !== '--' && head[0] !== '{' && head[0] !== '[';
}

export const photoDetector: Detector = {
  id: 'photo',
  category: 'photo',
  gate(view) {
    return view.bytes.length >= 64 && view.structured === undefined;
  },
  detect(view) {
    const type = sniff(view.bytes);
    if (isImage(type)) return photoFinding(view, view.bytes, type!, []);
    // A photo inside some other binary container (a protobuf, an app's own format): carve it.
    // Containers the decode chain splits itself (multipart, mail, JSON, text) are left to it, or
    // the same photo would be found twice.
    if (type === undefined && isOpaqueContainer(view)) {
      const at = findEmbeddedImage(view.bytes);
      if (at !== undefined) {
        const inner = view.bytes.subarray(at);
        const innerType = sniff(inner);
        if (isImage(innerType)) return photoFinding(view, inner, innerType!, [`offset:${at}`]);
      }
    }
    return [];
  },
};
