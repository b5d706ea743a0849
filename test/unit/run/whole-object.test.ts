// The check that keeps lines cut by a crash or a full disk out of flows.har: a scan for one whole
// JSON object over a line's bytes, a piece at a time, in place of parsing lines of tens of megabytes.

import t from 'tap';
import { ObjectLineScanner } from '../../../src/run/object-line-scanner.js';

/** The check on a line already in memory, in one piece. */
function isWholeObject(line: string): boolean {
  const scanner = new ObjectLineScanner();
  scanner.push(Buffer.from(line));
  return scanner.whole;
}

const whole = [
  '{}',
  '{"a":1}',
  '{"request":{"headers":[{"name":"x","value":"}]{["}],"postData":{"text":"a \\"quoted\\" } brace"}}}',
  '{"text":"ends with a backslash \\\\"}',
  JSON.stringify({ body: 'é€😀"\\\n'.repeat(50), nested: [[{ deep: [1, 2, { x: '}' }] }]] }),
];

const cut = [
  '',
  '{',
  '{"startedDateTime":"2026-11-27T18:30:11.000Z","request":{"method":"PO',
  // Cut just after an inner object closed: ends with '}' but the outer object is still open.
  '{"request":{"headers":[{"name":"a","value":"b"}',
  '{"request":{"method":"GET"}',
  // Cut inside a string that holds a closing brace.
  '{"text":"abc}',
  // Cut right after an escaping backslash.
  '{"text":"abc\\',
  // Two objects run together (a line whose newline was lost): not one object.
  '{"a":1}{"b":2}',
  '[{"a":1}]',
  ' {"a":1}',
];

t.test('whole objects pass, cut ones do not', async (t) => {
  for (const line of whole) t.ok(isWholeObject(line), `whole: ${line.slice(0, 60)}`);
  for (const line of cut) t.notOk(isWholeObject(line), `cut: ${line.slice(0, 60)}`);
  for (const line of whole) t.doesNotThrow(() => JSON.parse(line), 'the whole ones really are JSON');
});

t.test('the same answers when the bytes come in pieces of any size', async (t) => {
  for (const [line, expected] of [...whole.map((l) => [l, true] as const), ...cut.map((l) => [l, false] as const)]) {
    const bytes = Buffer.from(line);
    for (const piece of [1, 2, 3, 7, 64]) {
      const scanner = new ObjectLineScanner();
      for (let at = 0; at < bytes.length; at += piece) scanner.push(bytes, at, Math.min(at + piece, bytes.length));
      t.equal(scanner.whole, expected, `${piece}-byte pieces: ${line.slice(0, 40)}`);
    }
  }
});
