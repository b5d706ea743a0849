// tar headers at their edges (issue #23, planted bugs): the ustar magic at bytes 257-261 makes the
// prefix at 345 part of the name; without the magic those bytes are not read; the checksum counts
// its own eight bytes as spaces.

import t from 'tap';
import { tarEntries } from '../../../src/inspect/decode/archive.js';

function header(name: string, size: number, options: { magic?: string; prefix?: string } = {}): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('0', 156, 'latin1');
  if (options.magic) h.write(options.magic, 257, 'latin1');
  if (options.prefix) h.write(options.prefix, 345, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[i]!;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}
const entry = (h: Buffer, data: string): Buffer => Buffer.concat([h, Buffer.from(data), Buffer.alloc(512 - data.length), Buffer.alloc(1024)]);

t.test('the ustar magic makes the prefix part of the name', async (t) => {
  const tar = entry(header('IMG_3.jpg', 4, { magic: 'ustar\u000000', prefix: 'DCIM/Camera' }), 'jpeg');
  t.same(tarEntries(tar).files.map((f) => [f.name, f.data.toString()]), [['DCIM/Camera/IMG_3.jpg', 'jpeg']]);
  const gnu = entry(header('IMG_3.jpg', 4, { magic: 'ustar  \u0000', prefix: 'DCIM/Camera' }), 'jpeg');
  t.same(tarEntries(gnu).files.map((f) => f.name), ['DCIM/Camera/IMG_3.jpg'], "GNU's 'ustar  ' too");
});

t.test('without the magic the bytes at 345 are not a prefix', async (t) => {
  const old = entry(header('IMG_3.jpg', 4, { prefix: 'DCIM/Camera' }), 'jpeg');
  t.same(tarEntries(old).files.map((f) => f.name), ['IMG_3.jpg']);
  const almost = entry(header('IMG_3.jpg', 4, { magic: 'Ustar', prefix: 'DCIM/Camera' }), 'jpeg');
  t.same(tarEntries(almost).files.map((f) => f.name), ['IMG_3.jpg'], 'a look-alike magic');
});
