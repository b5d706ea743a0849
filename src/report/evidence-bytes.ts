// The bytes a finding was made in, found again: the flow's layers are decoded the way the
// inspector decoded them, and the layer whose SHA-256 is the finding's evidence hash is the thing
// itself (a photo inside a multipart upload inside a gzip body…). Pure and budgeted.

import crypto from 'node:crypto';
import type { Flow } from '../model/flow.js';
import { DecodeBudget } from '../inspect/decode/budget.js';
import { expandLayers } from '../inspect/decode/decode-chain.js';
import { viewsOf } from '../inspect/views.js';

/** The evidence bytes of each wanted hash found in the flow. */
export function findEvidenceBytes(flow: Flow, wanted: ReadonlySet<string>): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  const budget = new DecodeBudget();
  for (const root of viewsOf(flow)) {
    for (const layer of expandLayers(root, budget)) {
      if (layer.bytes.length === 0) continue;
      const hash = crypto.createHash('sha256').update(layer.bytes).digest('hex');
      if (wanted.has(hash) && !found.has(hash)) found.set(hash, layer.bytes);
      if (found.size === wanted.size || budget.expired()) return found;
    }
  }
  return found;
}
