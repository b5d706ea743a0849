import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { eachLine } from '../../../src/util/file-lines.js';

async function linesOf(text: string, bufferBytes: number): Promise<string[]> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'file-lines-')), 'data.csv');
  fs.writeFileSync(file, text);
  const lines: string[] = [];
  await eachLine(file, (bytes, start, end) => lines.push(bytes.toString('utf8', start, end)), bufferBytes);
  return lines;
}

t.test('lines that cross the read buffer come out whole, in order', async (t) => {
  const rows = Array.from({ length: 500 }, (_, i) => `${i * 7919},${i * 7919 + 255},${i},"Network ${'x'.repeat(i % 13)}"`);
  // 64 bytes: most lines start in one read and end in the next.
  t.same(await linesOf(`${rows.join('\n')}\n`, 64), rows);
  t.same(await linesOf(`${rows.join('\n')}\n`, 1024 * 1024), rows, 'and with a buffer larger than the file');
});

t.test('a last line without a newline, empty lines and an empty file', async (t) => {
  t.same(await linesOf('a,1\nb,2', 8), ['a,1', 'b,2']);
  t.same(await linesOf('a\n\nb\n', 8), ['a', '', 'b']);
  t.same(await linesOf('', 8), []);
});

t.test('a line longer than the buffer is refused, not cut', async (t) => {
  await t.rejects(linesOf(`short\n${'y'.repeat(100)}\n`, 32), /a line longer than 32 bytes/);
});
