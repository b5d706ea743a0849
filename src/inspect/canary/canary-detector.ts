// Finds planted values in any layer, in any of their precomputed forms, in one pass; and planted
// photos by SHA-256, or by their EXIF fingerprint (camera, capture time) when an app re-encoded
// them. A match is a finding in the value's category with "canary": label, at least high.

import crypto from 'node:crypto';
import { readImageMetadata } from '../decode/image-metadata.js';
import { structuredPrefix } from '../decode/structured.js';
import { isImage, sniff } from '../decode/magic.js';
import type { Detector, View } from '../detect/detector.js';
import type { FindingDraft } from '../../model/finding.js';
import { AhoCorasick } from '../detect/aho-corasick.js';
import { loadCanaries, type CanaryDefinition } from './canary-file.js';
import { canaryVariants, type CanaryVariant } from './canary-variants.js';
import { withFields } from '../../util/with-fields.js';

interface PhotoCanary { label: string; sha256: string; fingerprint?: string }

function photoFingerprint(bytes: Buffer): string | undefined {
  const type = sniff(bytes);
  if (!type || !isImage(type)) return undefined;
  const meta = readImageMetadata(bytes, type);
  // Camera and capture time to the second survive most re-encodings; alone, neither is enough.
  return meta.takenAt && (meta.make || meta.model) ? `${meta.make ?? ''}|${meta.model ?? ''}|${meta.takenAt}` : undefined;
}

function context(bytes: Buffer, end: number, length: number): string {
  const start = Math.max(0, end + 1 - length - 20);
  return bytes.toString('latin1', start, Math.min(bytes.length, end + 21)).replace(/[^\x20-\x7e]/g, '.');
}

export function createCanaryDetector(canaries: readonly CanaryDefinition[]): Detector {
  const byLabel = new Map(canaries.map((c) => [c.label, c]));
  const patterns = canaries.flatMap(canaryVariants);
  const lengths = new Map(patterns.map(([bytes, variant]) => [variant, bytes.length]));
  const matcher = new AhoCorasick<CanaryVariant>(patterns);
  const photos: PhotoCanary[] = canaries.filter((c) => c.photo).map((c) => {
    const fingerprint = photoFingerprint(c.photo!);
    return { label: c.label, sha256: crypto.createHash('sha256').update(c.photo!).digest('hex'), ...(fingerprint ? { fingerprint } : {}) };
  });

  const finding = (view: View, canary: CanaryDefinition, transform: string, excerpt: string): FindingDraft => ({
    category: canary.category, severity: 'high', direction: view.direction, detector: `canary/${canary.type}`,
    summary: `Planted ${canary.type} "${canary.label}" found${transform === 'as planted' ? '' : ` as ${transform}`} in ${view.path[view.path.length - 1]}`,
    evidence: { path: [...view.path, `canary:${transform}`], bytes: view.bytes.length, excerpt },
    details: { label: canary.label, type: canary.type, transform },
    canary: canary.label,
  });

  const structuredMatches = (view: View): FindingDraft[] => {
    const drafts = new Map<string, { draft: FindingDraft; length: number }>();
    const { prefix, root } = structuredPrefix(view);
    let visited = 0;
    const walk = (value: unknown, at: string): void => {
      if (++visited > 200_000) return;
      if (typeof value === 'string' || typeof value === 'number') {
        const bytes = Buffer.from(String(value));
        for (const match of matcher.search(bytes, 10)) {
          const length = lengths.get(match.value) ?? 0;
          if ((drafts.get(match.value.label)?.length ?? -1) >= length) continue;
          const located: View = withFields(view, { path: [...view.path, `${prefix}:${at}`] });
          drafts.set(match.value.label, { draft: finding(located, byLabel.get(match.value.label)!, match.value.transform, context(bytes, match.at, length)), length });
        }
      } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`));
      else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, at === '' ? k : `${at}.${k}`);
    };
    walk(view.structured, root);
    return [...drafts.values()].map((d) => d.draft);
  };

  return {
    id: 'canary',
    category: 'identifier',
    gate(view) {
      return view.bytes.length >= 4;
    },
    detect(view) {
      // Structured layers: each string value on its own, so the evidence names its JSONPath or field.
      if (view.structured !== undefined) return structuredMatches(view);
      const drafts: FindingDraft[] = [];
      // Per planted value, the longest match says the most (a whole digest, not its prefix).
      const best = new Map<string, { at: number; variant: CanaryVariant; length: number }>();
      for (const match of matcher.search(view.bytes)) {
        const length = lengths.get(match.value) ?? 0;
        const current = best.get(match.value.label);
        if (!current || length > current.length) best.set(match.value.label, { at: match.at, variant: match.value, length });
      }
      for (const [label, match] of best) {
        drafts.push(finding(view, byLabel.get(label)!, match.variant.transform, context(view.bytes, match.at, match.length)));
      }
      if (photos.length > 0 && isImage(sniff(view.bytes))) {
        const sha256 = crypto.createHash('sha256').update(view.bytes).digest('hex');
        const fingerprint = photoFingerprint(view.bytes);
        for (const photo of photos) {
          const exact = photo.sha256 === sha256;
          if (!exact && !(photo.fingerprint && photo.fingerprint === fingerprint)) continue;
          drafts.push(withFields(finding(view, byLabel.get(photo.label)!, exact ? 'the same file (SHA-256)' : 're-encoded (same camera and capture time)', ''), { evidence: { path: [...view.path, exact ? 'canary:sha256' : 'canary:exif-fingerprint'], bytes: view.bytes.length, sha256 } }));
        }
      }
      return drafts;
    },
  };
}

/** `detectors`, plus one that looks for the planted values of `canariesFile` when there is one. */
export function withCanaries(detectors: readonly Detector[], canariesFile: string | undefined): readonly Detector[] {
  return canariesFile ? [...detectors, createCanaryDetector(loadCanaries(canariesFile))] : detectors;
}
