// recover after a kill that landed inside a write of opaque.pcapng: the cut block goes, every
// whole block stays (decrypt reads them), and the note says so; a foreign file is left alone.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { recoverRun } from '../../../src/run/recover.js';
import { enhancedPacketBlock, interfaceDescriptionBlock, sectionHeaderBlock } from '../../../src/capture-file/pcapng-blocks.js';
import { tempDir } from '../../helpers/lab.js';

function killedRun(opaque: Buffer): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'flows.jsonl'), '');
  fs.writeFileSync(path.join(dir, 'findings.jsonl'), '');
  fs.writeFileSync(path.join(dir, 'opaque.pcapng'), opaque);
  return dir;
}

t.test('a cut block at the end of opaque.pcapng is trimmed by recover, whole blocks kept', async (t) => {
  const whole = Buffer.concat([sectionHeaderBlock(), interfaceDescriptionBlock(), enhancedPacketBlock(Buffer.alloc(60, 1), 1_000)]);
  const cut = enhancedPacketBlock(Buffer.alloc(1_400, 2), 2_000).subarray(0, 700);
  const dir = killedRun(Buffer.concat([whole, cut]));
  await recoverRun(dir);
  t.equal(fs.statSync(path.join(dir, 'opaque.pcapng')).size, whole.length, 'back to the last whole block');
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { notes: string[] };
  t.match(summary.notes.join(' '), /700 byte\(s\) of a block of opaque\.pcapng cut by the stop were left out/);
});

t.test('a whole file is untouched and not mentioned; a file that is not ours is left as it is', async (t) => {
  const whole = Buffer.concat([sectionHeaderBlock(), interfaceDescriptionBlock(), enhancedPacketBlock(Buffer.alloc(60, 1), 1_000)]);
  const dir = killedRun(whole);
  await recoverRun(dir);
  t.equal(fs.statSync(path.join(dir, 'opaque.pcapng')).size, whole.length);
  t.notMatch(JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')).notes.join(' '), /opaque\.pcapng/);
  const foreign = killedRun(Buffer.from('not a capture at all, someone else\'s file'));
  await recoverRun(foreign);
  t.equal(fs.readFileSync(path.join(foreign, 'opaque.pcapng'), 'utf8'), 'not a capture at all, someone else\'s file', 'never cut');
  t.match(JSON.parse(fs.readFileSync(path.join(foreign, 'summary.json'), 'utf8')).notes.join(' '), /opaque\.pcapng was left as it is/);
});
