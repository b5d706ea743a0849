// Exchange ActiveSync WBXML (MS-ASWBXML): a small tokenizer for the code pages that carry mail.
// ComposeMail SendMail/SmartReply/SmartForward hold the whole message as MIME (a layer for the
// mail detector); Sync items on the Email page become records with from/to/subject/body.

import type { View } from '../detect/detector.js';
import { childLayer, type Decoder } from './layer.js';

export interface WbxmlElement {
  readonly page: number;
  readonly tag: number;
  readonly children: WbxmlElement[];
  text?: string;
  opaque?: Buffer;
}

/** Code page → tag token → name, for the pages we read (MS-ASWBXML 2.1.2.1). */
const TAGS: Record<number, Record<number, string>> = {
  0: { 0x05: 'Sync', 0x07: 'Add', 0x08: 'Change', 0x0d: 'ServerId', 0x16: 'Commands', 0x1d: 'ApplicationData' },
  2: { 0x0f: 'DateReceived', 0x11: 'DisplayTo', 0x14: 'Subject', 0x16: 'To', 0x17: 'Cc', 0x18: 'From', 0x19: 'ReplyTo', 0x0c: 'Body' },
  17: { 0x0a: 'Body', 0x0b: 'Data' },
  21: { 0x05: 'SendMail', 0x06: 'SmartForward', 0x07: 'SmartReply', 0x10: 'Mime' },
};

export function tagName(element: WbxmlElement): string {
  return TAGS[element.page]?.[element.tag] ?? `${element.page}:${element.tag.toString(16)}`;
}

function mbUint32(bytes: Buffer, at: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) throw new RangeError('short');
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return [value, at + i + 1];
  }
  throw new RangeError('mb_u_int32 too long');
}

export function parseWbxml(bytes: Buffer): WbxmlElement | undefined {
  if (bytes.length < 5 || bytes[0] !== 0x03) return undefined;
  try {
    let [, at] = mbUint32(bytes, 1); // public id
    let charset: number;
    [charset, at] = mbUint32(bytes, at);
    if (charset !== 0x6a) return undefined; // UTF-8 only, as ActiveSync sends
    let tableLength: number;
    [tableLength, at] = mbUint32(bytes, at);
    at += tableLength;
    let page = 0;
    const root: WbxmlElement = { page: -1, tag: -1, children: [] };
    const stack: WbxmlElement[] = [root];
    let tokens = 0;
    while (at < bytes.length) {
      if (++tokens > 200_000) return undefined;
      const token = bytes[at++]!;
      const parent = stack[stack.length - 1]!;
      if (token === 0x00) {
        page = bytes[at++]!;
      } else if (token === 0x01) {
        if (stack.length === 1) return undefined;
        stack.pop();
      } else if (token === 0x03) {
        const end = bytes.indexOf(0, at);
        if (end < 0) return undefined;
        parent.text = (parent.text ?? '') + bytes.toString('utf8', at, end);
        at = end + 1;
      } else if (token === 0xc3) {
        let length: number;
        [length, at] = mbUint32(bytes, at);
        if (at + length > bytes.length) return undefined;
        parent.opaque = bytes.subarray(at, at + length);
        at += length;
      } else if ((token & 0x3f) >= 0x05 && (token & 0x80) === 0) {
        const element: WbxmlElement = { page, tag: token & 0x3f, children: [] };
        parent.children.push(element);
        if (token & 0x40) stack.push(element);
      } else {
        return undefined; // attributes, extensions, entities: not ActiveSync
      }
    }
    return stack.length === 1 && root.children.length > 0 ? root : undefined;
  } catch {
    return undefined;
  }
}

function* walk(element: WbxmlElement): Generator<WbxmlElement> {
  yield element;
  for (const child of element.children) yield* walk(child);
}

function valueOf(element: WbxmlElement): string {
  return element.text ?? element.opaque?.toString('utf8') ?? '';
}

export const wbxmlDecoder: Decoder = {
  name: 'wbxml',
  decode(view) {
    const declared = view.contentType === 'application/vnd.ms-sync.wbxml' || view.contentType === 'application/vnd.ms-sync';
    if (!declared && !(view.bytes[0] === 0x03 && view.bytes[1] === 0x01 && view.bytes[2] === 0x6a)) return [];
    const root = parseWbxml(view.bytes);
    if (!root) return [];
    const layers: View[] = [];
    const mails: Array<Record<string, string>> = [];
    for (const element of walk(root)) {
      const name = tagName(element);
      if (element.page === 21 && (name === 'SendMail' || name === 'SmartReply' || name === 'SmartForward')) {
        const mime = element.children.find((c) => c.page === 21 && tagName(c) === 'Mime');
        if (mime) layers.push(childLayer(view, mime.opaque ?? Buffer.from(valueOf(mime)), `wbxml:ComposeMail.${name}.Mime`, { contentType: 'message/rfc822' }));
      }
      if (element.page === 0 && name === 'ApplicationData') {
        const record: Record<string, string> = {};
        for (const field of walk(element)) {
          const fieldName = tagName(field);
          if (field.page === 2 && ['From', 'To', 'Cc', 'Subject', 'DateReceived', 'DisplayTo'].includes(fieldName)) record[fieldName.toLowerCase()] = valueOf(field);
          if (field.page === 17 && fieldName === 'Data') record['body'] = valueOf(field).slice(0, 2000);
        }
        if (record['from'] || record['subject']) mails.push(record);
      }
    }
    if (mails.length > 0) layers.push(childLayer(view, view.bytes, 'wbxml:AirSync.Sync', { structured: { mails } }));
    return layers;
  },
};
