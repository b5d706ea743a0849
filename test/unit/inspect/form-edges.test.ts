// The form decoder's size gate (issue #23, planted bugs): a form of 3 bytes up to 32 MiB is read;
// 2 bytes, or one byte past 32 MiB, are left alone.

import t from 'tap';
import { formDecoder } from '../../../src/inspect/decode/structured.js';
import { DecodeBudget } from '../../../src/inspect/decode/budget.js';
import type { View } from '../../../src/inspect/detect/detector.js';

const MiB = 1024 * 1024;
const form = (length: number): View => {
  const bytes = Buffer.alloc(length, 0x78);
  bytes.write('a=', 0, 'latin1');
  return { bytes, path: ['body'], depth: 0, direction: 'request', contentType: 'application/x-www-form-urlencoded' } as unknown as View;
};

t.test('3 bytes to 32 MiB: a form; 2 bytes or 32 MiB and one: not read', async (t) => {
  t.equal(formDecoder.decode(form(3), new DecodeBudget()).length, 1);
  t.same(formDecoder.decode(form(2), new DecodeBudget()), []);
  t.equal(formDecoder.decode(form(32 * MiB), new DecodeBudget(60_000)).length, 1);
  t.same(formDecoder.decode(form(32 * MiB + 1), new DecodeBudget(60_000)), []);
});
