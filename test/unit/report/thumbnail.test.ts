// Thumbnails for the report: made by sharp for what it can read, from the JPEG thumbnail a camera
// embeds for what it cannot, a placeholder that says why otherwise; always our own JPEG.

import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { embeddedJpeg, makeThumbnail } from '../../../src/report/thumbnail.js';

const photos = path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos');
const read = (name: string): Buffer => fs.readFileSync(path.join(photos, name));

async function decoded(dataUri: string): Promise<Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>> {
  t.match(dataUri, /^data:image\/jpeg;base64,[A-Za-z0-9+/=]+$/, 'a JPEG data URI, nothing else');
  return sharp(Buffer.from(dataUri.slice(dataUri.indexOf(',') + 1), 'base64')).metadata();
}

t.test('JPEG, PNG, WebP and GIF become JPEG thumbnails of at most 240 px', async (t) => {
  for (const name of ['camera.jpg', 'camera.png', 'camera.webp', 'pixel.gif']) {
    const thumb = await makeThumbnail(read(name));
    if (thumb.kind !== 'image') {
      t.fail(`${name}: ${thumb.reason}`);
      continue;
    }
    const meta = await decoded(thumb.dataUri);
    t.equal(meta.format, 'jpeg', `${name} re-encoded as JPEG`);
    t.ok(Math.max(meta.width!, meta.height!) <= 240, `${name} fits 240 px (${meta.width}x${meta.height})`);
    t.ok(thumb.bytes < 48 * 1024, `${name} thumbnail is small (${thumb.bytes} B)`);
    t.equal(thumb.source, 'photo');
  }
});

t.test('a HEIC the bundled library cannot decode falls back to its embedded JPEG thumbnail', async (t) => {
  const heic = read('camera.heic');
  const bare = await makeThumbnail(heic);
  t.equal(bare.kind, 'placeholder');
  if (bare.kind === 'placeholder') t.match(bare.reason, /HEIC photos \(HEVC\) cannot be decoded/, 'the placeholder says why in words');
  // The shape of an iPhone HEIC's EXIF: a small JPEG inside the file.
  const small = await sharp(read('camera.jpg')).resize(160).jpeg().toBuffer();
  const withThumbnail = Buffer.concat([heic.subarray(0, 4000), small, heic.subarray(4000)]);
  t.same(embeddedJpeg(withThumbnail), small, 'the embedded JPEG is found whole');
  const thumb = await makeThumbnail(withThumbnail);
  t.equal(thumb.kind, 'image');
  if (thumb.kind === 'image') {
    t.equal(thumb.source, 'embedded thumbnail');
    t.equal((await decoded(thumb.dataUri)).width, 160);
  }
});

t.test('garbage and pixel bombs get a placeholder, never an exception', async (t) => {
  const garbage = await makeThumbnail(Buffer.from('<svg onload=alert(1)>not an image</svg>'));
  t.equal(garbage.kind, 'placeholder');
  if (garbage.kind === 'placeholder') t.match(garbage.reason, /^no preview: not a readable image/);
  const bomb = await sharp({ create: { width: 12_000, height: 10_000, channels: 3, background: '#fff' } }).png({ compressionLevel: 9 }).toBuffer();
  const refused = await makeThumbnail(bomb);
  t.equal(refused.kind, 'placeholder', `a 120-megapixel PNG of ${bomb.length} bytes is not decoded`);
  if (refused.kind === 'placeholder') t.match(refused.reason, /larger than 100 megapixels/);
  t.equal(embeddedJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])), undefined, 'a JPEG alone has no embedded thumbnail');
});
