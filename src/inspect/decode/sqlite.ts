// SQLite database files as records: backup and support features upload whole stores (an SMS
// store, a contacts store, a call log). Each table's rows become a structured layer, with the
// column names as keys, for the record detectors — an `sms` table is found by its shape exactly
// like JSON rows, an app's settings table stays quiet. Android's contacts2.db keeps one row per
// phone or e-mail in `data`, so its people are put back together (name, phones, e-mails) first.
// BLOB cells of some size become layers of their own (a photo thumbnail stored in a table).
//
// Read with sql.js (SQLite compiled to WebAssembly): no native build, and the file is opened in
// memory, never written to disk. Its WebAssembly (about 20 MB once running) loads asynchronously,
// once (loadSqlite): `analyze` loads it before it starts; the inspection worker only when a flow
// first holds a database — the decoder then says it wanted the reader (takeSqliteWanted), and the
// worker loads it and inspects that flow again. Until it is loaded the decoder says it could not look.

import { createRequire } from 'node:module';
import type initSqlJs from 'sql.js';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import type { View } from '../detect/detector.js';
import type { DecodeBudget } from './budget.js';
import { childLayer, type Decoder } from './layer.js';

export const SQLITE_TYPE = 'application/vnd.sqlite3';
const HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const MAX_DATABASE_BYTES = 64 * 1024 * 1024;
const MAX_TABLES = 64;
const MAX_ROWS_PER_TABLE = 10_000;
const MIN_BLOB_LAYER_BYTES = 64;

let sql: SqlJsStatic | undefined;
let loading: Promise<void> | undefined;
let wanted = false;

/** Whether a database was met without the reader since the last call (the flow deserves another look once it is loaded). */
export function takeSqliteWanted(): boolean {
  const was = wanted;
  wanted = false;
  return was;
}

/** Loads SQLite's WebAssembly once. */
export function loadSqlite(): Promise<void> {
  loading ??= (async () => {
    const load = createRequire(import.meta.url);
    const wasm = load.resolve('sql.js/dist/sql-wasm.wasm');
    // Its JavaScript too is loaded only now (util/lazy-require.ts says why).
    sql = await (load('sql.js') as typeof initSqlJs)({ locateFile: () => wasm });
  })();
  return loading;
}

export function isSqlite(bytes: Buffer): boolean {
  return bytes.length >= 100 && bytes.subarray(0, 16).equals(HEADER);
}

type Row = Record<string, unknown>;

function query(db: Database, text: string, blobs: Array<{ at: string; bytes: Buffer }>, at: string): Row[] {
  const rows: Row[] = [];
  const statement = db.prepare(text);
  try {
    while (rows.length < MAX_ROWS_PER_TABLE && statement.step()) {
      const row: Row = {};
      const values = statement.get() as SqlValue[];
      statement.getColumnNames().forEach((column, i) => {
        const value = values[i];
        if (value instanceof Uint8Array) {
          if (value.length >= MIN_BLOB_LAYER_BYTES) blobs.push({ at: `${at}[${rows.length}].${column}`, bytes: Buffer.from(value) });
          row[column] = `(${value.length} bytes)`;
        } else {
          row[column] = value;
        }
      });
      rows.push(row);
    }
  } finally {
    statement.free();
  }
  return rows;
}

/** contacts2.db: one person per raw contact, from the `data` rows and their mimetypes. */
const CONTACTS2_PEOPLE = `
  SELECT max(CASE WHEN m.mimetype = 'vnd.android.cursor.item/name' THEN d.data1 END) AS display_name,
         group_concat(CASE WHEN m.mimetype = 'vnd.android.cursor.item/phone_v2' THEN d.data1 END, '|') AS phone,
         group_concat(CASE WHEN m.mimetype = 'vnd.android.cursor.item/email_v2' THEN d.data1 END, '|') AS email
  FROM data d JOIN mimetypes m ON m._id = d.mimetype_id
  GROUP BY d.raw_contact_id`;

function tablesOf(db: Database): string[] {
  const result = db.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'android_metadata' ORDER BY rowid");
  return (result[0]?.values ?? []).map((r) => String(r[0])).slice(0, MAX_TABLES);
}

function sqliteLayers(view: View, budget: DecodeBudget): View[] {
  if (!sql) {
    wanted = true;
    budget.note(`SQLite database at ${view.path.join(' > ')} not read: the SQLite reader was not loaded`);
    return [];
  }
  if (view.bytes.length > MAX_DATABASE_BYTES) {
    budget.note(`SQLite database at ${view.path.join(' > ')} is ${view.bytes.length} bytes, over the ${MAX_DATABASE_BYTES}-byte limit: not read`);
    return [];
  }
  const db = new sql.Database(new Uint8Array(view.bytes.buffer, view.bytes.byteOffset, view.bytes.byteLength));
  try {
    const layers: View[] = [];
    const blobs: Array<{ at: string; bytes: Buffer }> = [];
    const tables = tablesOf(db);
    for (const table of tables) {
      if (budget.expired()) break;
      const rows = query(db, `SELECT * FROM "${table.replace(/"/g, '""')}"`, blobs, table);
      if (rows.length > 0) layers.push(childLayer(view, view.bytes, `sqlite:${table}`, { structured: rows, contentType: SQLITE_TYPE }));
    }
    if (tables.includes('data') && tables.includes('mimetypes')) {
      try {
        const people = query(db, CONTACTS2_PEOPLE, [], 'contacts').map((p) => ({ ...p, phone: typeof p['phone'] === 'string' ? p['phone'].split('|') : [], email: typeof p['email'] === 'string' ? p['email'].split('|') : [] }));
        if (people.length > 0) layers.push(childLayer(view, view.bytes, 'sqlite:contacts2-people', { structured: people, contentType: SQLITE_TYPE }));
      } catch {
        // not Android's contacts2 schema after all
      }
    }
    for (const blob of blobs) layers.push(childLayer(view, blob.bytes, `sqlite:${blob.at}`));
    return layers;
  } finally {
    db.close();
  }
}

export const sqliteDecoder: Decoder = {
  name: 'sqlite',
  decode(view, budget) {
    if (view.structured !== undefined || !isSqlite(view.bytes)) return [];
    return sqliteLayers(view, budget);
  },
};
