// The terminal's body preview at its edges (issue #23, planted bugs): a hex dump stops after 256
// bytes (sixteen rows) and says how many there were; text shows forty lines of 200 characters at
// most; past 2048 bytes the rest is counted; nine in ten printable characters make text.

import t from 'tap';
import { bodyPreview } from '../../src/sinks/tui/tui-model.js';

const binary = (length: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i % 8) + 1));

t.test('a hex dump: sixteen rows for 256 bytes and nothing more; 257 add the count, never a seventeenth row', async (t) => {
  const at256 = bodyPreview(binary(256));
  t.equal(at256.length, 16);
  t.match(at256[15], /^0000f0  /);
  const at257 = bodyPreview(binary(257));
  t.equal(at257.length, 17);
  t.match(at257[15], /^0000f0  /);
  t.equal(at257[16], '… (257 bytes in all)');
  t.equal(bodyPreview(binary(17)).length, 2, '17 bytes: two rows');
  t.equal(bodyPreview(binary(16)).length, 1, '16 bytes: one row');
  t.same(bodyPreview(Buffer.alloc(0)), ['(empty)']);
});

t.test('text: forty lines of 200 characters at most; past 2048 bytes the rest is counted', async (t) => {
  const lines = bodyPreview(Buffer.from(Array.from({ length: 45 }, (_, i) => `line ${i}`).join('\n')));
  t.equal(lines.length, 40);
  t.equal(lines[39], 'line 39');
  t.same(bodyPreview(Buffer.from('x'.repeat(200))), ['x'.repeat(200)]);
  t.same(bodyPreview(Buffer.from('x'.repeat(201))), [`${'x'.repeat(200)}…`]);
  t.same(bodyPreview(Buffer.from('y'.repeat(2048))).at(-1), `${'y'.repeat(200)}…`, '2048 bytes: nothing more to count');
  t.same(bodyPreview(Buffer.from('y'.repeat(2049))).at(-1), '… (1 more bytes)');
});

t.test('nine printable characters in ten are not text enough; more are', async (t) => {
  const mix = (printable: number, control: number): Buffer => Buffer.from(`${'a'.repeat(printable)}${'\u0001'.repeat(control)}`);
  t.match(bodyPreview(mix(91, 9))[0], /^a{91}/, '91 in 100: text');
  t.match(bodyPreview(mix(90, 10))[0], /^000000  61 61/, '90 in 100: hex');
});
