// Archives as layers: ZIP entries and tar files each a layer named by its path; bombs, lying
// headers and floods of entries stopped by the budget and said in a note.

import t from 'tap';
import zlib from 'node:zlib';
import { zipSync } from 'fflate';
import { archiveDecoder, MAX_ARCHIVE_ENTRIES, tarEntries } from '../../../src/inspect/decode/archive.js';
import { DecodeBudget } from '../../../src/inspect/decode/budget.js';
import type { View } from '../../../src/inspect/detect/detector.js';
import { makeFlow } from '../../helpers/flows.js';
import { tarOf } from '../../helpers/corpus-round2.js';

const view = (bytes: Buffer): View => ({ bytes, path: ['body'], direction: 'request', depth: 0, origin: 'http', flow: makeFlow() });

t.test('ZIP entries, stored and deflated, become layers named by their paths with their file names', async (t) => {
  const zip = Buffer.from(zipSync({ 'DCIM/Camera/IMG_1.jpg': [Buffer.from('jpeg bytes'), { level: 0 }], 'notes/a.txt': [Buffer.from('hello '.repeat(100)), { level: 9 }], 'empty/': new Uint8Array(0) }));
  const layers = archiveDecoder.decode(view(zip), new DecodeBudget());
  t.same(layers.map((l) => [l.path.at(-1), l.fileName, l.bytes.length]), [['zip:DCIM/Camera/IMG_1.jpg', 'IMG_1.jpg', 10], ['zip:notes/a.txt', 'a.txt', 600]]);
});

t.test('a ZIP bomb is not inflated past the budget, and says so', async (t) => {
  const bomb = Buffer.from(zipSync({ 'big.bin': [new Uint8Array(300 * 1024 * 1024), { level: 9 }] }));
  t.ok(bomb.length < 1024 * 1024, `a ${bomb.length}-byte file that inflates to 300 MB`);
  const budget = new DecodeBudget();
  t.same(archiveDecoder.decode(view(bomb), budget), []);
  t.match([...budget.problems].join('\n'), /zip at body: 1 entry not read \(over the budget/);
});

t.test('a flood of entries stops at the limit', async (t) => {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < MAX_ARCHIVE_ENTRIES + 50; i++) files[`f${i}.txt`] = Buffer.from(`file ${i}`);
  const budget = new DecodeBudget();
  t.equal(archiveDecoder.decode(view(Buffer.from(zipSync(files))), budget).length, MAX_ARCHIVE_ENTRIES);
  t.match([...budget.problems].join('\n'), /50 entries not read/);
});

t.test('tar: ustar prefix, GNU long names, PAX paths; checksums required', async (t) => {
  const plain = tarOf({ 'DCIM/Camera/IMG_1.jpg': 'jpeg bytes', 'b.txt': 'bee' });
  t.same(tarEntries(plain).files.map((f) => [f.name, f.data.toString()]), [['DCIM/Camera/IMG_1.jpg', 'jpeg bytes'], ['b.txt', 'bee']]);
  const longName = `${'d/'.repeat(60)}IMG_2.jpg`;
  const gnu = tarOf({ '././@LongLink': longName, placeholder: 'data' });
  gnu[512 + 156 - 512] = 'L'.charCodeAt(0); // the first header's type: a GNU long name
  // recompute the first header's checksum after changing its type
  gnu.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += gnu[i]!;
  gnu.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  t.same(tarEntries(gnu).files.map((f) => f.name), [longName], 'the long name names the next entry');
  const corrupt = Buffer.from(plain);
  corrupt[0] = 'X'.charCodeAt(0);
  t.same(tarEntries(corrupt).files, [], 'a header whose checksum fails is not a tar');
  t.same(archiveDecoder.decode(view(Buffer.from('name=value, '.repeat(200))), new DecodeBudget()), [], 'text is not an archive');
  const gz = zlib.gzipSync(plain);
  t.same(archiveDecoder.decode(view(gz), new DecodeBudget()), [], 'a tar.gz is a gzip layer first (the compressed-blob decoder opens it)');
});
