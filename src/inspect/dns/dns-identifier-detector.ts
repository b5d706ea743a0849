// Identifiers in the labels of a DNS name, with the identifier detector's own discipline: a value
// counts only under a key that names it (`imei-356938035643809.t.example.net`,
// `imei.356938035643809.…`, `mac=…` inside a hex label), checked as strictly as in a body (Luhn,
// a real MCC, placeholders at info). Only an international number (+ and 8–15 digits) and an
// e-mail address stand without a key: nothing else in a host name looks like them. A bare
// 15-digit number, a UUID or a hash in a label is not reported: CDNs and load balancers name hosts so.
// Structured payloads (JSON, forms) inside a decoded label go through the decode chain and the
// ordinary identifier detector instead.

import type { FindingDraft } from '../../model/finding.js';
import type { Detector, View } from '../detect/detector.js';
import { classifyIdentifier, identifierDrafts, type IdentifierHit } from '../detect/identifier.js';

/** Characters that part a key from its value inside one label or token. */
const KEY_VALUE_SEPARATORS = new Set(['-', '_', '=', ':']);
/** Keys longer than this are not keys. */
const MAX_KEY_CHARS = 40;
/** Tokens looked at per layer (a name has at most 127 labels; a decoded label far fewer). */
const MAX_TOKENS = 200;
const TOKEN_SEPARATORS = /[\s&;,|/.]+/;
const E164 = /^\+[1-9]\d{7,14}$/;
const EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}/g;

/** `imei-356938035643809`: the first split whose key names an identifier and whose value passes as one. */
function keyedValue(token: string): IdentifierHit | undefined {
  for (let at = 1; at < Math.min(token.length - 1, MAX_KEY_CHARS + 1); at++) {
    if (!KEY_VALUE_SEPARATORS.has(token[at]!)) continue;
    const hit = classifyIdentifier(token.slice(0, at), token.slice(at + 1));
    if (hit) return hit;
  }
  return undefined;
}

export function identifierHitsInText(text: string): IdentifierHit[] {
  const hits: IdentifierHit[] = [];
  const tokens = text.split(TOKEN_SEPARATORS).filter(Boolean).slice(0, MAX_TOKENS);
  tokens.forEach((token, i) => {
    const next = tokens[i + 1];
    const hit = keyedValue(token)
      // A key label followed by its value label: `imei.356938035643809.t.example.net`.
      ?? (next !== undefined ? classifyIdentifier(token, next) : undefined)
      ?? (E164.test(token) ? { kind: 'phone number' as const, value: token, key: 'DNS label', note: 'E.164 number under another key' } : undefined);
    if (hit) hits.push(hit);
  });
  return hits;
}

function emailDraft(view: View, addresses: string[]): FindingDraft {
  const first = addresses[0]!;
  return {
    category: 'identifier', severity: 'medium', direction: view.direction, detector: 'identifier/e-mail',
    summary: `e-mail address ${first.slice(0, Math.max(3, first.indexOf('@')))}…${addresses.length > 1 ? ` (and ${addresses.length - 1} more)` : ''}, in a DNS query name`,
    evidence: { path: view.path, bytes: view.bytes.length, excerpt: first },
    details: { kind: 'e-mail', values: addresses.slice(0, 20) },
  };
}

export const dnsIdentifierDetector: Detector = {
  id: 'identifier/dns-name',
  category: 'identifier',
  gate(view) {
    // The whole name and each decoded label or run; a joined run as sent adds nothing the whole name lacks.
    return view.origin === 'dns' && view.depth === 0 && view.path[0] === 'dns:query' && !(view.path.length === 2 && view.path[1]!.startsWith('labels:'));
  },
  detect(view) {
    const text = view.bytes.toString('utf8');
    // Summaries as the identifier detector words them and naming no layer: the same identifier read
    // through two layers of one name (a decoded label, and the form inside it) is one finding.
    const drafts = identifierDrafts(view, identifierHitsInText(text));
    const addresses = [...new Set(text.match(EMAIL) ?? [])];
    if (addresses.length > 0) drafts.push(emailDraft(view, addresses));
    return drafts;
  },
};
