// The layers of a DNS question that detectors look at: the name asked for, and what the labels
// left of its registered domain say once decoded — each label alone, and runs of consecutive
// labels joined, since data longer than a label (63 characters) is split across several by every
// exfiltration tool. Paths start with 'dns:query': ['dns:query', 'name'] is the name as asked,
// ['dns:query', 'label:1', 'hex'] its first label from the left read as hex, ['dns:query',
// 'labels:1-3', 'base32'] the first three joined and read as base32.

import { getDomain } from 'tldts';
import type { DnsFlow } from '../../model/flow.js';
import type { View } from '../detect/detector.js';
import { decodeLabelText } from './label-encodings.js';
import { withFields } from '../../util/with-fields.js';

/** A DNS name is at most 253 characters; anything longer is cut, not trusted. */
const MAX_NAME_CHARS = 253;
/** Runs of joined labels looked at per name (a name of many short labels must not explode). */
const MAX_JOINED_RUNS = 64;

/**
 * The labels that carry what the device chose to put in the name: those left of the registered
 * domain (`a1b2.t.example.net` → `a1b2`, `t`). Names without one (single labels, addresses) have none.
 */
export function payloadLabels(name: string): string[] {
  const domain = getDomain(name);
  if (!domain || name === domain || !name.endsWith(`.${domain}`)) return [];
  return name.slice(0, -(domain.length + 1)).split('.').filter((label) => label.length > 0);
}

/** The query name as the flow recorded it (lower-case per the model; case kept where the listener kept it). */
export function queryName(flow: DnsFlow): string | undefined {
  // As the device sent it: decoding base64 in a label needs its letter case.
  const name = (flow.dns.asked ?? flow.dns.name).replace(/\.$/, '').slice(0, MAX_NAME_CHARS);
  return name ? name : undefined;
}

export function dnsNameViews(flow: DnsFlow): View[] {
  const name = queryName(flow);
  if (!name) return [];
  const base = { direction: 'request' as const, depth: 0, origin: 'dns' as const, flow };
  // The name as asked sits at the same depth as a joined run, so a value inside one label is
  // reported there, not as if it had been split.
  const views: View[] = [withFields(base, { bytes: Buffer.from(name), path: ['dns:query', 'name'] })];
  const labels = payloadLabels(name);
  const decoded = (text: string, step: string): View[] => decodeLabelText(text).map((d) => withFields(base, { bytes: d.bytes, path: ['dns:query', step, d.encoding] }));
  labels.forEach((label, i) => views.push(...decoded(label, `label:${i + 1}`)));
  // Joined runs, the shortest first from each start (the first run a value is found in is the one
  // reported): a value split at 63 characters is whole again, and a trailing session or sequence
  // label does not spoil the decoding of the run before it.
  let runs = 0;
  for (let start = 0; start < labels.length - 1; start++) {
    for (let end = start + 1; end < labels.length; end++) {
      if (++runs > MAX_JOINED_RUNS) return views;
      const text = labels.slice(start, end + 1).join('');
      const step = `labels:${start + 1}-${end + 1}`;
      views.push(withFields(base, { bytes: Buffer.from(text), path: ['dns:query', step] }), ...decoded(text, step));
    }
  }
  return views;
}
