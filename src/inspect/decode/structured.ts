// JSON and urlencoded forms become structured layers (the parsed value rides on the layer, for
// shape detectors); their string values are then decoded (base64, JSON in strings…) into layers
// of their own, each with its JSONPath or field name in the decode path.

import { isUtf8 } from 'node:buffer';
import type { View } from '../detect/detector.js';
import { childLayer, type Decoder } from './layer.js';
import { decodeStringValue } from './strings.js';
import { withFields } from '../../util/with-fields.js';

const MAX_JSON_BYTES = 32 * 1024 * 1024;
/** Values visited per structured layer. */
const MAX_NODES = 200_000;

/** JSON with the anti-hijacking prefixes some APIs put in front, and NDJSON. */
export function parseJsonLoose(text: string): unknown {
  const stripped = text.replace(/^\uFEFF/, '').replace(/^\s*(\)\]\}'[^\n]*\n|for\s*\(;;\);|while\s*\(1\);)/, '').trim();
  if (!/^[[{]/.test(stripped)) return undefined;
  try {
    return JSON.parse(stripped);
  } catch {
    if (!stripped.includes('\n')) return undefined;
    const lines = stripped.split('\n').map((l) => l.trim()).filter(Boolean);
    try {
      return lines.map((l) => JSON.parse(l) as unknown);
    } catch {
      return undefined;
    }
  }
}

export const jsonDecoder: Decoder = {
  name: 'json',
  decode(view) {
    if (view.structured !== undefined || view.bytes.length < 2 || view.bytes.length > MAX_JSON_BYTES) return [];
    const head = view.bytes.toString('latin1', 0, 64).trimStart();
    if (!/^(\uFEFF|\xef\xbb\xbf)?[[{]|^\)\]\}'|^for\s*\(|^while\s*\(/.test(head)) return [];
    if (!isUtf8(view.bytes)) return [];
    const value = parseJsonLoose(view.bytes.toString('utf8'));
    if (value === undefined || typeof value !== 'object' || value === null) return [];
    return [childLayer(view, view.bytes, 'json', { structured: value, contentType: 'application/json' })];
  },
};

function looksUrlencoded(text: string): boolean {
  return /^[\w.\-~%+*[\]]+=[^&]*(&[\w.\-~%+*[\]]+=[^&]*)*&?$/.test(text.trim());
}

function decodeFormComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Fields of a form as an object; a repeated field becomes an array. */
export function parseForm(text: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const pair of text.trim().split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decodeFormComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeFormComponent(pair.slice(eq + 1));
    const existing = fields[key];
    if (existing === undefined) fields[key] = value;
    else fields[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return fields;
}

export const formDecoder: Decoder = {
  name: 'form',
  decode(view) {
    if (view.structured !== undefined || view.bytes.length < 3 || view.bytes.length > MAX_JSON_BYTES) return [];
    const declared = view.contentType === 'application/x-www-form-urlencoded';
    // A raw body is sniffed whatever its Content-Type claims (a form sent as application/json or
    // octet-stream is still a form); deeper layers only when they say they are forms. A cheap look
    // at the first bytes comes before reading the whole body as text.
    if (!declared && view.depth !== 0) return [];
    if (!looksUrlencoded(view.bytes.toString('latin1', 0, Math.min(view.bytes.length, 256)).replace(/&[^&]*$/, '') || 'x')) return [];
    const text = view.bytes.toString('latin1');
    if (!looksUrlencoded(text)) return [];
    return [childLayer(view, view.bytes, 'form', { structured: parseForm(text) })];
  },
};

/** The request URL's query string, as a form layer of its own. */
export function queryLayer(view: View): View | undefined {
  if (view.depth !== 0 || view.direction !== 'request' || !view.flow.request) return undefined;
  const q = view.flow.request.url.indexOf('?');
  if (q < 0) return undefined;
  const query = view.flow.request.url.slice(q + 1).split('#')[0] ?? '';
  if (!query) return undefined;
  return withFields(childLayer(view, Buffer.from(query), 'url:query', { structured: parseForm(query) }), { path: ['url', 'query'] });
}

/** JSONPath-like steps: $.a.b[0], $["odd key"]; a form's top level is the bare field name. */
function pathStep(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (parent === '') return key;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * How paths inside a structured layer are named: json:$.a, msgpack:$.a, xml:$.a for documents,
 * form:field for forms and query strings, value:$.1 for decoded binary structures (protobuf,
 * gRPC, MMS, WBXML). Decoders and detectors (canaries) name paths the same way through this.
 */
export function structuredPrefix(view: View): { prefix: string; root: string } {
  const last = view.path[view.path.length - 1] ?? '';
  const prefix = last === 'json' || last === 'msgpack' || last === 'xml' ? last : last.startsWith('mms:') || last.startsWith('wbxml:') || last === 'protobuf' || last.startsWith('grpc:') ? 'value' : 'form';
  return { prefix, root: prefix === 'form' ? '' : '$' };
}

/** Decodes the string values of a structured layer into layers of their own. */
export const structuredStringsDecoder: Decoder = {
  name: 'structured-strings',
  decode(view, budget) {
    if (view.structured === undefined) return [];
    const { prefix, root } = structuredPrefix(view);
    const children: View[] = [];
    let visited = 0;
    const walk = (value: unknown, path: string, key: string | undefined): void => {
      if (++visited > MAX_NODES) {
        if (visited === MAX_NODES + 1) budget.note(`more than ${MAX_NODES} values in ${view.path.join(' > ')}: the rest was not decoded`);
        return;
      }
      if (typeof value === 'string') {
        for (const decoded of decodeStringValue(value)) {
          const named: { contentType?: string; key?: string } = {};
          if (decoded.contentType) named.contentType = decoded.contentType;
          if (key) named.key = key.toLowerCase();
          const child = childLayer(view, decoded.bytes, `${prefix}:${path}`, named);
          children.push(withFields(child, { path: [...child.path, decoded.step] }));
        }
      } else if (Array.isArray(value)) {
        value.forEach((item, index) => walk(item, pathStep(path, index), key));
      } else if (value && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) walk(v, pathStep(path, k), k);
      }
    };
    walk(view.structured, root, undefined);
    return children;
  },
};
