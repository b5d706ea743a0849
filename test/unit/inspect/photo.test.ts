import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { photoDetector } from '../../../src/inspect/detect/photo.js';
import { readImageMetadata } from '../../../src/inspect/decode/image-metadata.js';
import { sniff } from '../../../src/inspect/decode/magic.js';
import type { View } from '../../../src/inspect/detect/detector.js';
import { makeFlow } from '../../helpers/flows.js';

const fixture = (name: string): Buffer => fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', name));

function view(bytes: Buffer, extra: Partial<View> = {}): View {
  return { bytes, path: ['body'], direction: 'request', depth: 0, flow: makeFlow(), ...extra };
}

// EXIF read from every container, including the two the common EXIF library fails on (WebP, HEIC).
for (const name of ['camera.jpg', 'camera.heic', 'camera.webp', 'camera.png']) {
  t.test(`reads camera, time and GPS from ${name}`, async (t) => {
    const bytes = fixture(name);
    const meta = readImageMetadata(bytes, sniff(bytes)!);
    t.equal(meta.make, 'Xiaomi');
    t.equal(meta.model, 'Redmi Note');
    t.ok(meta.gps, 'GPS present');
    t.ok(Math.abs(meta.gps![0] - 48.853) < 0.001 && Math.abs(meta.gps![1] - 2.3499) < 0.001, `GPS ${meta.gps}`);
    if (name !== 'camera.heic') t.equal(meta.takenAt, '2014-10-12 18:30:05');
    t.ok(meta.width && meta.height);
  });
}

const positives: Array<[string, Partial<View>, RegExp]> = [
  ['camera.jpg', {}, /^JPEG camera photo 1600x1200, from Xiaomi Redmi Note, taken 2014-10-12 18:30, GPS 48\.853 N 2\.350 E$/],
  ['camera.heic', {}, /^HEIC camera photo .* GPS 48\.853 N/],
  ['camera.webp', {}, /^WebP camera photo .* GPS 48\.853 N/],
  ['camera.png', {}, /^PNG camera photo 640x480/],
  ['Screenshot_20261127-183011.png', { fileName: 'Screenshot_20261127-183011.png' }, /^PNG screenshot 1080x2340$/],
];
for (const [name, extra, summary] of positives) {
  t.test(`reports ${name} as a photo`, async (t) => {
    const findings = photoDetector.detect(view(fixture(name), extra), { deadlineMs: Infinity });
    t.equal(findings.length, 1);
    t.match(findings[0]!.summary, summary);
    t.equal(findings[0]!.category, 'photo');
    t.equal(findings[0]!.severity, 'high');
    t.match(findings[0]!.evidence.sha256, /^[0-9a-f]{64}$/);
  });
}

t.test('the first chunk of a resumable upload (a truncated JPEG) still counts', async (t) => {
  const bytes = fixture('camera.jpg').subarray(0, 16 * 1024);
  const findings = photoDetector.detect(view(bytes, { fileName: 'IMG_20141012_183005.jpg' }), { deadlineMs: Infinity });
  t.equal(findings.length, 1);
  t.match(findings[0]!.summary, /GPS 48\.853 N/);
});

t.test('a photo carved out of an unknown binary container', async (t) => {
  const container = Buffer.concat([Buffer.from([0x0a, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x12, 0x80]), fixture('camera.jpg')]);
  const findings = photoDetector.detect(view(container), { deadlineMs: Infinity });
  t.equal(findings.length, 1);
  t.same(findings[0]!.evidence.path, ['body', 'offset:9', 'image/jpeg']);
});

// Look-alikes: images that are not personal photos, and bytes that only look like images.
const negatives: Array<[string, Buffer, Partial<View>]> = [
  ['an app icon upload', fixture('app_icon.png'), { fileName: 'app_icon.png' }],
  ['a 16x16 GIF pixel', fixture('pixel.gif'), {}],
  ['a plain full-screen UI image sent to the device', fixture('Screenshot_20261127-183011.png'), { direction: 'response' }],
  ['FF D8 FF followed by garbage', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x04]), Buffer.alloc(500, 7)]), {}],
  ['a PNG signature with a broken chunk', Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, 0xff)]), {}],
  ['random bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)), {}],
  ['JSON text', Buffer.from(JSON.stringify({ photo: 'IMG_0001.jpg', size: 123456 })), {}],
];
for (const [name, bytes, extra] of negatives) {
  t.test(`does not report ${name}`, async (t) => {
    t.same(photoDetector.gate(view(bytes, extra)) ? photoDetector.detect(view(bytes, extra), { deadlineMs: Infinity }) : [], []);
  });
}

t.test('hostile image bytes never throw', async (t) => {
  const jpeg = fixture('camera.jpg');
  for (let cut = 0; cut < 4000; cut += 97) {
    const broken = Buffer.from(jpeg.subarray(0, 4000));
    broken[cut] = broken[cut]! ^ 0xff;
    photoDetector.detect(view(broken), { deadlineMs: Infinity });
  }
  const heic = fixture('camera.heic');
  for (let cut = 16; cut < 2000; cut += 53) {
    const broken = Buffer.from(heic.subarray(0, 3000));
    broken.writeUInt32BE(0xffffffff, cut);
    photoDetector.detect(view(broken), { deadlineMs: Infinity });
  }
  t.pass('no exception');
});
