import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import t from 'tap';
import { SortedRangeFile, compareDecimal } from '../../../src/enrich/sorted-range-file.js';
import { addressAsDecimal } from '../../../src/enrich/ip-range-table.js';
import { AsnRanges, parseAsnFields } from '../../../src/enrich/asn-ranges.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-ranges-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;
function table(text: string): SortedRangeFile {
  const file = path.join(dir, `t${files++}.csv`);
  fs.writeFileSync(file, text);
  return SortedRangeFile.open(file);
}

t.test('decimal strings order by length, then digit by digit', async (t) => {
  const rows: Array<[string, string, number]> = [
    ['9', '10', -1],
    ['10', '9', 1],
    ['123', '123', 0],
    ['340282366920938463463374607431768211455', '42540488161975842760550356425300246528', 1],
    ['0', '1', -1],
  ];
  for (const [a, b, sign] of rows) t.equal(Math.sign(compareDecimal(a, b)), sign, `${a} vs ${b}`);
});

t.test('finds the range holding a value, and nothing in gaps or outside', async (t) => {
  const ranges = table('10,19,first\n20,29,second\n40,49,"after a gap, quoted"\n100,100,single\n200,299,last\n');
  const rows: Array<[string, string | undefined]> = [
    ['0', undefined],
    ['9', undefined],
    ['10', 'first'],
    ['15', 'first'],
    ['19', 'first'],
    ['20', 'second'],
    ['29', 'second'],
    ['30', undefined],
    ['39', undefined],
    ['40', '"after a gap, quoted"'],
    ['99', undefined],
    ['100', 'single'],
    ['101', undefined],
    ['200', 'last'],
    ['299', 'last'],
    ['300', undefined],
    ['99999999999999999999999', undefined],
  ];
  for (const [value, rest] of rows) t.equal(ranges.find(value)?.rest, rest, value);
});

t.test('odd but valid files: one line, no final newline, CRLF, UTF-8, long lines, empty', async (t) => {
  t.equal(table('5,7,only').find('6')?.rest, 'only', 'one line without a newline');
  t.equal(table('5,7,only').find('8'), undefined);
  const crlf = table('1,2,a\r\n3,4,b\r\n5,6,c\r\n');
  t.equal(crlf.find('4')?.rest, 'b');
  t.equal(crlf.find('6')?.rest, 'c');
  t.equal(table('1,2,Société Générale\n3,4,北京\n').find('3')?.rest, '北京', 'names decoded as UTF-8');
  const long = `1,2,${'x'.repeat(3000)}\n3,4,${'y'.repeat(5000)}\n5,6,short\n`;
  const longTable = table(long);
  t.equal(longTable.find('4')?.rest, 'y'.repeat(5000), 'a line longer than one read');
  t.equal(longTable.find('5')?.rest, 'short');
  t.equal(table('').find('1'), undefined, 'an empty file holds nothing');
  t.equal(table('1,2\n').find('2')?.rest, '', 'a line with no fields after the range');
});

t.test('a many-line table agrees with a plain scan at every boundary', async (t) => {
  // Ranges of varying width and line length, with gaps, so probes land everywhere in lines.
  const lines: Array<[number, number, string]> = [];
  let at = 1000;
  for (let i = 0; i < 5000; i++) {
    const width = (i * 7919) % 97;
    lines.push([at, at + width, `AS${i}${'.'.repeat(i % 41)}`]);
    at += width + 1 + (i % 3 === 0 ? (i % 11) : 0);
  }
  const ranges = table(lines.map(([s, e, r]) => `${s},${e},${r}`).join('\n') + '\n');
  const scan = (value: number): string | undefined => lines.find(([s, e]) => s <= value && value <= e)?.[2];
  let wrong = 0;
  for (const [s, e] of lines) {
    for (const value of [s - 1, s, e, e + 1]) if (ranges.find(String(value))?.rest !== scan(value)) wrong++;
  }
  t.equal(wrong, 0, 'every start, end and their neighbours');
});

t.test('a file that is not a range table is refused when opened, in one line naming it', async (t) => {
  const file = path.join(dir, 'words.csv');
  fs.writeFileSync(file, 'start,end,name\n1,2,a\n');
  t.throws(() => SortedRangeFile.open(file), /words\.csv: the line at byte 0 is not "start,end,…"/);
  const binary = path.join(dir, 'binary.bin');
  fs.writeFileSync(binary, Buffer.alloc(200_000, 0x41));
  t.throws(() => SortedRangeFile.open(binary), /binary\.bin: .*no line end within/);
});

t.test('addresses become the tables\' decimal integers', async (t) => {
  const rows: Array<[string, { family: 4 | 6; value: string } | undefined]> = [
    ['1.0.0.0', { family: 4, value: '16777216' }],
    ['255.255.255.255', { family: 4, value: '4294967295' }],
    ['::', { family: 6, value: '0' }],
    ['::1', { family: 6, value: '1' }],
    ['2001:db8::', { family: 6, value: (0x20010db8n << 96n).toString() }],
    ['2001:DB8:0:0:0:0:0:1', { family: 6, value: ((0x20010db8n << 96n) + 1n).toString() }],
    ['64:ff9b::8.8.8.8', { family: 6, value: ((0x64ff9bn << 96n) + 0x08080808n).toString() }],
    ['::ffff:1.2.3.4', { family: 6, value: ((0xffffn << 32n) + 0x01020304n).toString() }],
    ['1.2.3', undefined],
    ['256.1.1.1', undefined],
    ['example.com', undefined],
    ['', undefined],
  ];
  for (const [ip, expected] of rows) t.same(addressAsDecimal(ip), expected, ip || '(empty)');
});

t.test('ASN fields: number and organisation, quoted or not; AS 0 is no network', async (t) => {
  t.same(parseAsnFields('15169,Google LLC'), { asn: 15169, org: 'Google LLC' });
  t.same(parseAsnFields('13335,"Cloudflare, Inc."'), { asn: 13335, org: 'Cloudflare, Inc.' });
  t.same(parseAsnFields('1,"The ""Quoted"" Co"'), { asn: 1, org: 'The "Quoted" Co' });
  t.equal(parseAsnFields('0,Not routed'), undefined);
  t.equal(parseAsnFields('x,Not a number'), undefined);
});

t.test('the installed IPv4 network table, searched on disk, agrees with the whole file read into memory', async (t) => {
  const file = path.join(path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json')), 'asn-ipv4-num.csv');
  const rows = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => {
    const [start, end, ...rest] = line.split(',');
    return { start: Number(start), end: Number(end), info: parseAsnFields(rest.join(',')) };
  });
  const inMemory = (value: number) => {
    let low = 0;
    let high = rows.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const row = rows[middle]!;
      if (row.start > value) high = middle - 1;
      else if (row.end < value) low = middle + 1;
      else return row.info;
    }
    return undefined;
  };
  const asns = AsnRanges.load();
  const asIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  let wrong = 0;
  let checked = 0;
  for (let i = 0; i < rows.length; i += 97) {
    const { start, end } = rows[i]!;
    for (const value of [start - 1, start, end, end + 1]) {
      if (value < 0 || value > 0xffffffff) continue;
      checked++;
      if (JSON.stringify(asns.lookup(asIp(value))) !== JSON.stringify(inMemory(value))) wrong++;
    }
  }
  t.ok(checked > 10_000, `${checked} addresses checked`);
  t.equal(wrong, 0, 'no address answered differently');
});
