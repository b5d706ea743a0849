// Two small readers every layer goes through: the file name a request URL carries (a hint to the
// photo detector), and the file signature of a layer's first bytes. Both were rewritten for speed
// (read off the text and the bytes, without new URL() or a string per signature): these tables
// hold them to what they said before, look-alikes included.

import t from 'tap';
import { fileNameOf } from '../../../src/inspect/views.js';
import { sniff } from '../../../src/inspect/decode/magic.js';

t.test('the file name of a request URL: what URL parsing and percent-decoding give', async (t) => {
  const table: Array<[string, string | null]> = [
    ['https://a.example/IMG_0001.jpg', 'IMG_0001.jpg'],
    ['https://a.example/up/IMG_0001.jpg?x=1', 'IMG_0001.jpg'],
    ['https://a.example/up/IMG%200001.JPG#f', 'IMG 0001.JPG'],
    ['http://a.example:8080/a/b/photo.heic', 'photo.heic'],
    ['https://a.example/a/../b/c.png', 'c.png'],
    ['https://a.example/a/c.png/..', null],
    ['https://a.example', null],
    ['https://a.example?x=/a.jpg', null],
    // Backslashes are slashes to URL parsing, tabs are dropped: both go through it.
    ['https://a.example/a\\b.jpg', 'b.jpg'],
    ['https://a.example/a\tb.jpg', 'ab.jpg'],
    ['https://a.example/a b.jpg', 'a b.jpg'],
    ['https://a.example/é.jpg', 'é.jpg'],
    ['https://a.example/%zz.jpg', null],
    ['https://a.example/a%2Fb.jpg', 'a/b.jpg'],
    ['https://a.example/photo%2Ejpg', 'photo.jpg'],
    ['https://a.example/IMG_1.jp%67?x=1', 'IMG_1.jpg'],
    ['https://a.example/x.toolongext', null],
    ['https://a.example/small?size=64', null],
    ['ftp://a.example/x.jpg', 'x.jpg'],
    ['not a url', null],
  ];
  for (const [url, name] of table) t.equal(fileNameOf(url).fileName ?? null, name, JSON.stringify(url));
});

t.test('file signatures: each kind, and bytes that only look like one', async (t) => {
  const b = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
  const ftyp = (brand: string): Buffer => b([0, 0, 0, 24], 'ftyp', brand, [0, 0, 0, 0], brand, 'mif1');
  const table: Array<[string, Buffer, string | undefined]> = [
    ['JPEG', b([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg'],
    ['PNG', b([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'image/png'],
    ['GIF87a', b('GIF87a', [1, 0]), 'image/gif'],
    ['GIF89a', b('GIF89a', [1, 0]), 'image/gif'],
    ['WebP', b('RIFF', [0, 0, 0, 0], 'WEBP'), 'image/webp'],
    ['HEIC', ftyp('heic'), 'image/heic'],
    ['AVIF', ftyp('avif'), 'image/avif'],
    ['MP4', b([0, 0, 0, 20], 'ftyp', 'isom', [0, 0, 0, 0], 'mp41'), 'video/mp4'],
    ['TIFF little-endian', b([0x49, 0x49, 0x2a, 0x00]), 'image/tiff'],
    ['gzip', b([0x1f, 0x8b, 0x08, 0x00]), 'application/gzip'],
    ['PDF', b('%PDF-1.7'), 'application/pdf'],
    ['zip', b([0x50, 0x4b, 0x03, 0x04]), 'application/zip'],
    ['vCard', b('BEGIN:VCARD\r\n'), 'text/vcard'],
    ['vCard in lower case', b('begin:vcard\r\n'), 'text/vcard'],
    ['vCard in mixed case', b('Begin:VCard\r\n'), 'text/vcard'],
    // Look-alikes.
    ['GIF88a', b('GIF88a', [1, 0]), undefined],
    ['GIF cut short', b('GIF8'), undefined],
    ['RIFF of a WAV', b('RIFF', [0, 0, 0, 0], 'WAVE'), undefined],
    ['RIFF cut short', b('RIFF', [0, 0, 0, 0], 'WE'), undefined],
    ['PDF without its dash', b('%PDF1.7'), undefined],
    ['vCard cut short', b('BEGIN:VCAR'), undefined],
    ['vCalendar', b('BEGIN:VCALENDAR'), undefined],
    ['vCard with a Latin-1 look-alike letter', b('BEGIN:VC', [0xc1], 'RD'), undefined],
    ['ftyp box too small', b([0, 0, 0, 8], 'ftyp', 'heic', [0, 0, 0, 0]), undefined],
    ['plain text', b('ZZZZZZZZZZZZ'), undefined],
    ['three bytes', b([0xff, 0xd8, 0xff]), undefined],
  ];
  for (const [what, bytes, type] of table) t.equal(sniff(bytes), type, what);
});
