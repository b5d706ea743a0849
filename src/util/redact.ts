// --redact: personal content masked in every output. Keeps the shape (length, separators) so a
// reader still sees what kind of value it was, but not the value. Applied in the sinks, never in
// detectors, through redactFinding().

import type { Finding } from '../model/finding.js';

export function redactText(text: string): string {
  return text.replace(/[\p{L}\p{N}]/gu, (c, offset: number) => (offset < 2 ? c : /\p{N}/u.test(c) ? '#' : '*'));
}

/** Keys in details whose values describe the format, not the person. */
const TECHNICAL_KEYS = new Set(['format', 'kind', 'encoding', 'contentType', 'protocol', 'mechanism', 'make', 'model', 'camera', 'software', 'type', 'detector', 'reasons', 'score', 'partial', 'width', 'height', 'count', 'passwordLength', 'learnedPassthrough', 'bytes']);

function maskEmail(text: string): string {
  return text.replace(/([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@/g, '$1***@');
}

function redactValue(value: unknown, key: string | undefined): unknown {
  if (key !== undefined && TECHNICAL_KEYS.has(key)) return value;
  if (key === 'gps' && Array.isArray(value)) return value.map((n) => (typeof n === 'number' ? Math.round(n * 10) / 10 : n));
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, undefined));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]));
  return value;
}

export function redactSummary(summary: string): string {
  return maskEmail(summary)
    .replace(/'([^']*)'/g, (_m, inner: string) => `'${redactText(inner)}'`)
    .replace(/(\d+\.\d)\d+ ([NSEW])/g, '$1 $2');
}

export function redactFinding(finding: Finding): Finding {
  return {
    ...finding,
    summary: redactSummary(finding.summary),
    evidence: { ...finding.evidence, ...(finding.evidence.excerpt ? { excerpt: redactText(finding.evidence.excerpt) } : {}) },
    details: redactValue(finding.details, undefined) as Finding['details'],
  };
}
