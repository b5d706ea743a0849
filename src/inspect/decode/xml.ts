// XML as a structured layer: each element becomes an object of its attributes and of its child
// elements' text (so `<message><address>+33…</address><body>…</body></message>` reads like the
// JSON record it is), and every text and attribute value goes on to the string decoders.
// A small tokenizer of our own: no DTDs, no entities beyond the five predefined and numeric ones.

import { isUtf8 } from 'node:buffer';
import type { Decoder } from './layer.js';
import { childLayer } from './layer.js';

const MAX_ELEMENTS = 100_000;

interface XmlElement { name: string; attributes: Record<string, string>; children: XmlElement[]; text: string }

function unescapeXml(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(Math.min(parseInt(h, 16), 0x10ffff)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Math.min(Number(d), 0x10ffff)))
    .replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function parseXml(text: string): XmlElement | undefined {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const token = /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/([\w:.-]+)\s*>|<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;
  let count = 0;
  let consumed = 0;
  for (const match of text.matchAll(token)) {
    if (match.index !== consumed) return undefined; // something that is not XML
    consumed = match.index + match[0].length;
    const top = stack[stack.length - 1]!;
    if (match[1] !== undefined) top.text += match[1];
    else if (match[2] !== undefined) {
      if (top.name !== match[2] || stack.length === 1) return undefined;
      stack.pop();
    } else if (match[3] !== undefined) {
      if (++count > MAX_ELEMENTS) return undefined;
      const attributes: Record<string, string> = {};
      for (const attr of (match[4] ?? '').matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attributes[attr[1]!] = unescapeXml(attr[2] ?? attr[3] ?? '');
      const element: XmlElement = { name: match[3], attributes, children: [], text: '' };
      top.children.push(element);
      if (!match[5]) stack.push(element);
    } else if (match[6] !== undefined) {
      top.text += unescapeXml(match[6]);
    }
  }
  if (consumed !== text.length || root.children.length !== 1) return undefined;
  // A document cut at the body limit: keep what was read.
  return root.children[0];
}

/** Attributes and leaf children's text as fields; elements with element children nest. */
function toStructured(element: XmlElement): Record<string, unknown> {
  const out: Record<string, unknown> = { ...element.attributes };
  for (const child of element.children) {
    const value = child.children.length === 0 && Object.keys(child.attributes).length === 0 ? child.text.trim() : toStructured(child);
    const name = child.name.replace(/^[\w.-]+:/, '');
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [existing, value];
  }
  if (element.children.length === 0 && element.text.trim()) out['#text'] = element.text.trim();
  return out;
}

export const xmlDecoder: Decoder = {
  name: 'xml',
  decode(view) {
    if (view.structured !== undefined || view.bytes.length < 7 || view.bytes.length > 32 * 1024 * 1024) return [];
    const head = view.bytes.toString('latin1', 0, 64).trimStart();
    if (!head.startsWith('<') || !isUtf8(view.bytes)) return [];
    const root = parseXml(view.bytes.toString('utf8').trim());
    if (!root) return [];
    return [childLayer(view, view.bytes, 'xml', { structured: { [root.name.replace(/^[\w.-]+:/, '')]: toStructured(root) }, contentType: 'application/xml' })];
  },
};
