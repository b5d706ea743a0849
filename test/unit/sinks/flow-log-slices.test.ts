// Large bodies reach flows.jsonl a slice at a time (flow-log-sink.ts); the line must be the same
// bytes as the whole entry written at once, wherever a slice boundary falls: base64 groups of
// three bytes, a multi-byte character, a control character escaped as \u00XX.

import t from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FlowLogSink } from '../../../src/sinks/flow-log-sink.js';
import { flowToHarEntry } from '../../../src/flow/har.js';
import { DestinationLookup } from '../../../src/enrich/destination-lookup.js';
import { EntityLookup } from '../../../src/enrich/entity/entity-lookup.js';
import { flowHost } from '../../../src/model/flow.js';
import { body, makeFlow } from '../../helpers/flows.js';
import { tempDir } from '../../helpers/lab.js';

/** A UTF-8 text of `bytes` bytes made of `unit` repeated, cut to whole characters. */
function textOf(unit: string, bytes: number): Buffer {
  const whole = Buffer.from(unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit))));
  return Buffer.from(whole.toString('utf8', 0, bytes).replace(/\uFFFD$/, ''));
}

const bodies: Array<[string, Buffer]> = [
  ['random bytes (base64), not a multiple of three', crypto.randomBytes(3 * 1024 * 1024 + 1)],
  ['ASCII text', textOf('Z', 2 * 1024 * 1024 + 7)],
  ['three-byte characters across every slice boundary', textOf('€', 2 * 1024 * 1024 + 2)],
  ['four-byte characters mixed with ASCII', textOf('a😀bc', 2 * 1024 * 1024)],
  ['control characters, escaped six to one', textOf('\u0007\u0000\u001f"\\', 2 * 1024 * 1024)],
  ['plain text with one quote in its last slice (the others written as their bytes)', Buffer.concat([textOf('p', 2 * 1024 * 1024), Buffer.from('"end"')])],
  ['plain text with one backslash in a middle slice', Buffer.concat([textOf('q', 1024 * 1024 + 3), Buffer.from('\\'), textOf('r', 1024 * 1024)])],
  ['exactly the inline size', textOf('y', 1024 * 1024)],
  ['one byte past the inline size', textOf('y', 1024 * 1024 + 1)],
];

t.before(async () => { await Promise.all([DestinationLookup.shared(), EntityLookup.shared()]); });

for (const [what, bytes] of bodies) {
  t.test(`${what}: the line is the whole entry's bytes`, async (t) => {
    const file = path.join(tempDir(), 'flows.jsonl');
    const sink = new FlowLogSink(file, { failed: () => undefined, recovered: () => undefined }, { redact: false, backlogLimitBytes: 1 << 20, retryMs: 1000 });
    const flow = makeFlow({ requestBody: bytes, response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], body: body(bytes) } });
    sink.write(flow);
    sink.close();
    const whole = JSON.stringify(flowToHarEntry(flow, { omitBodies: false, locate: (ip) => DestinationLookup.locate(ip), company: (f) => EntityLookup.of(flowHost(f)) })) + '\n';
    const written = fs.readFileSync(file, 'utf8');
    t.equal(written.length, whole.length, 'same length');
    t.ok(written === whole, 'same characters');
    const entry = JSON.parse(written) as { request: { postData: { text: string; encoding?: string } } };
    const back = Buffer.from(entry.request.postData.text, entry.request.postData.encoding === 'base64' ? 'base64' : 'utf8');
    t.ok(back.equals(bytes), 'the body reads back byte for byte');
  });
}
