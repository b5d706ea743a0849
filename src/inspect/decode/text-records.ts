// Text dumps of database rows as structured layers: `adb shell content query` output
// (`Row: 0 _id=41, address=+33612345678, body=…`), as diagnostics and support uploads carry it, and
// the same `key=value, key=value` rows without the `Row:` prefix when several lines share their
// keys. The rows are handed to the record detectors with the column names as keys, like JSON rows.

import { isUtf8 } from 'node:buffer';
import { childLayer, type Decoder } from './layer.js';

export const TEXT_ROWS_TYPE = 'text/x-content-query';

const MAX_ROWS = 20_000;
const MAX_BYTES = 32 * 1024 * 1024;
/** A column name: what `content query` prints (lower-case identifiers, sometimes dotted). */
const PAIR_SPLIT = /, (?=[A-Za-z_][\w.]*=)/;

function rowOf(line: string): Record<string, string | null> | undefined {
  const row: Record<string, string | null> = {};
  for (const pair of line.split(PAIR_SPLIT)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return undefined;
    const key = pair.slice(0, eq);
    if (!/^[A-Za-z_][\w.]*$/.test(key)) return undefined;
    const value = pair.slice(eq + 1);
    row[key] = value === 'NULL' ? null : value;
  }
  return Object.keys(row).length >= 2 ? row : undefined;
}

/** The rows of a dump, or undefined when the text is not one. */
export function parseTextRows(text: string): Array<Record<string, string | null>> | undefined {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return undefined;
  const adb = /^Row: \d+ /;
  const rows: Array<Record<string, string | null>> = [];
  if (adb.test(lines[0]!)) {
    for (const line of lines) {
      if (!adb.test(line)) continue;
      const row = rowOf(line.replace(adb, ''));
      if (row) rows.push(row);
      if (rows.length >= MAX_ROWS) break;
    }
    return rows.length > 0 ? rows : undefined;
  }
  // Without the prefix: at least two lines of four or more pairs, all with the same columns.
  for (const line of lines) {
    const row = rowOf(line);
    if (!row || Object.keys(row).length < 4) return undefined;
    rows.push(row);
    if (rows.length >= MAX_ROWS) break;
  }
  const columns = Object.keys(rows[0]!).join(',');
  return rows.length >= 2 && rows.every((r) => Object.keys(r).join(',') === columns) ? rows : undefined;
}

export const textRowsDecoder: Decoder = {
  name: 'text-rows',
  decode(view) {
    if (view.structured !== undefined || view.bytes.length < 12 || view.bytes.length > MAX_BYTES) return [];
    const head = view.bytes.toString('latin1', 0, 200);
    // Cheap first: a dump starts with "Row: " or with a column name and "=".
    if (!/^(Row: \d+ |[A-Za-z_][\w.]*=[^\n]*, [A-Za-z_][\w.]*=)/.test(head) || !isUtf8(view.bytes)) return [];
    const rows = parseTextRows(view.bytes.toString('utf8'));
    return rows ? [childLayer(view, view.bytes, 'text-rows', { structured: rows, contentType: TEXT_ROWS_TYPE })] : [];
  },
};
