// SQLite files as records: tables as rows, Android's contacts2 people rebuilt, BLOBs as layers,
// limits said in notes.

import t from 'tap';
import initSqlJs from 'sql.js';
import { DecodeBudget } from '../../../src/inspect/decode/budget.js';
import { isSqlite, loadSqlite, sqliteDecoder } from '../../../src/inspect/decode/sqlite.js';
import type { View } from '../../../src/inspect/detect/detector.js';
import { makeFlow } from '../../helpers/flows.js';

const SQL = await initSqlJs();
const view = (bytes: Buffer): View => ({ bytes, path: ['body'], direction: 'request', depth: 0, origin: 'http', flow: makeFlow() });

function database(sql: string, blob?: Uint8Array): Buffer {
  const db = new SQL.Database();
  db.run(sql);
  if (blob) db.run('INSERT INTO thumbs VALUES (?, ?)', [1, blob]);
  const bytes = Buffer.from(db.export());
  db.close();
  return bytes;
}

t.test('before the reader is loaded it says so; then tables are rows, BLOBs are layers', async (t) => {
  const bytes = database("CREATE TABLE notes (id INTEGER, text TEXT); INSERT INTO notes VALUES (1, 'a'), (2, 'b'); CREATE TABLE thumbs (id INTEGER, data BLOB);", Buffer.alloc(200, 7));
  t.ok(isSqlite(bytes));
  const early = new DecodeBudget();
  // This test file runs in its own process: nothing has loaded the reader yet.
  t.same(sqliteDecoder.decode(view(bytes), early), []);
  t.match([...early.problems].join('\n'), /SQLite reader was not loaded/);
  await loadSqlite();
  const layers = sqliteDecoder.decode(view(bytes), new DecodeBudget());
  t.same(layers.map((l) => l.path.at(-1)), ['sqlite:notes', 'sqlite:thumbs', 'sqlite:thumbs[0].data']);
  t.same(layers[0]!.structured, [{ id: 1, text: 'a' }, { id: 2, text: 'b' }]);
  t.same(layers[1]!.structured, [{ id: 1, data: '(200 bytes)' }]);
  t.equal(layers[2]!.bytes.length, 200);
  t.same(sqliteDecoder.decode(view(Buffer.from('SQLite format 3\0 but then nothing')), new DecodeBudget()), [], 'a header alone is not a database');
});

t.test('a broken database file is a note, not a crash', async (t) => {
  await loadSqlite();
  const bytes = database('CREATE TABLE a (x); INSERT INTO a VALUES (1);');
  const broken = Buffer.concat([bytes.subarray(0, 100), Buffer.alloc(bytes.length - 100, 0xff)]);
  t.throws(() => sqliteDecoder.decode(view(broken), new DecodeBudget()), 'the driver catches decoder errors and notes them');
});
