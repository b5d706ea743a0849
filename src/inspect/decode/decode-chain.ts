// The decode driver: from one raw layer (a body, a WebSocket message, a stream direction) to
// every readable layer beneath it, breadth first, within the message's budget.

import type { View } from '../detect/detector.js';
import { decodeLimits, type DecodeBudget } from './budget.js';
import { compressedBlobDecoder, contentEncodingDecoder } from './content-encoding.js';
import type { Decoder } from './layer.js';
import { archiveDecoder } from './archive.js';
import { textRowsDecoder } from './text-records.js';
import { sqliteDecoder } from './sqlite.js';
import { mailMimeDecoder } from './mail-message.js';
import { mailProtocolDecoder } from './mail-protocols.js';
import { mmsDecoder } from './mms.js';
import { msgpackDecoder } from './msgpack.js';
import { multipartDecoder } from './multipart.js';
import { protobufDecoder } from './protobuf.js';
import { wbxmlDecoder } from './wbxml.js';
import { xmlDecoder } from './xml.js';
import { formDecoder, jsonDecoder, queryLayer, structuredStringsDecoder } from './structured.js';
import { withFields } from '../../util/with-fields.js';

/** The decoders, in the order they are tried on every layer. */
export const decoders: readonly Decoder[] = [
  contentEncodingDecoder,
  compressedBlobDecoder,
  multipartDecoder,
  archiveDecoder,
  sqliteDecoder,
  jsonDecoder,
  formDecoder,
  textRowsDecoder,
  xmlDecoder,
  structuredStringsDecoder,
  mmsDecoder,
  msgpackDecoder,
  protobufDecoder,
  wbxmlDecoder,
  mailProtocolDecoder,
  mailMimeDecoder,
];

export function expandLayers(root: View, budget: DecodeBudget): View[] {
  const layers = collectLayers(root, budget);
  // Most raw layers of a small flow open into nothing: no parents to mark.
  if (layers.length === 1) return [root];
  const parents = new Set(layers.map((l) => l.parent).filter((p) => p !== undefined));
  return layers.map((l) => (parents.has(l.view) ? withFields(l.view, { decoded: true }) : l.view));
}

function collectLayers(root: View, budget: DecodeBudget): Array<{ view: View; parent?: View }> {
  const layers: Array<{ view: View; parent?: View }> = [{ view: root }];
  const query = queryLayer(root);
  if (query) layers.push({ view: query });
  const queue = layers.map((l) => l.view);
  while (queue.length > 0) {
    if (budget.expired()) break;
    const view = queue.shift()!;
    if (view.depth >= decodeLimits.maxDepth) {
      budget.note(`decode depth ${decodeLimits.maxDepth} reached at ${view.path.join(' > ')}`);
      continue;
    }
    // An empty body (every GET's request layer) holds nothing any decoder could open.
    if (view.bytes.length === 0 && view.structured === undefined) continue;
    for (const decoder of decoders) {
      let children: View[];
      try {
        children = decoder.decode(view, budget);
      } catch (error) {
        budget.note(`${decoder.name} failed at ${view.path.join(' > ')}: ${(error as Error).message}`);
        continue;
      }
      for (const child of children) {
        // A structured layer shares its parent's bytes: it costs a layer, not bytes.
        const cost = child.bytes === view.bytes ? 0 : child.bytes.length;
        if (!budget.take(cost)) return layers;
        layers.push({ view: child, parent: view });
        queue.push(child);
      }
    }
  }
  return layers;
}
