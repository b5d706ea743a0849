// adb `content query` dumps and key=value rows as structured rows; prose and logs are not rows.

import t from 'tap';
import { parseTextRows } from '../../../src/inspect/decode/text-records.js';

t.test('rows with their columns; NULL is null; commas inside a value stay in it', async (t) => {
  const rows = parseTextRows('Row: 0 _id=41, address=+33612345678, person=NULL, body=Rendez-vous demain, à 18h, date=1413131405000\nRow: 1 _id=42, address=+33612345678, person=NULL, body=OK, date=1413131505000\n');
  t.same(rows, [
    { _id: '41', address: '+33612345678', person: null, body: 'Rendez-vous demain, à 18h', date: '1413131405000' },
    { _id: '42', address: '+33612345678', person: null, body: 'OK', date: '1413131505000' },
  ]);
});

t.test('what is not a dump', async (t) => {
  const cases: Array<[string, string]> = [
    ['prose', 'Hello, this is a letter, with commas.'],
    ['one key=value line without the Row prefix', 'level=info, msg=started, took=12ms, host=a'],
    ['lines with different columns', 'a=1, b=2, c=3, d=4\nx=1, y=2, z=3, w=4'],
    ['lines of too few pairs', 'a=1, b=2\na=3, b=4'],
  ];
  for (const [name, text] of cases) t.equal(parseTextRows(text), undefined, name);
  t.same(parseTextRows('id=1, name=a, size=3, kind=x\nid=2, name=b, size=4, kind=y'), [{ id: '1', name: 'a', size: '3', kind: 'x' }, { id: '2', name: 'b', size: '4', kind: 'y' }], 'rows without the prefix when their columns agree');
});
