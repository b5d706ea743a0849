// The photo score at each of its thresholds (issue #23, planted bugs): sizes in bytes and in
// pixels, one step either side, each adding or taking away exactly its points with its reason.

import t from 'tap';
import { scorePhoto } from '../../../src/inspect/detect/photo.js';

const plain = { hasExposure: false };
const sent = { direction: 'request' as const };
const KB = 1024;
/** The reasons apart from "sent by the device" (+1), which every case here shares. */
const reasons = (verdict: { reasons: string[] }): string[] => verdict.reasons.filter((r) => r !== '+1 sent by the device');

t.test('bytes: under 8 KB takes 2 up to 8191, not at 8192; over 100 KB adds 1 from 102400, not at 102399', async (t) => {
  t.same(reasons(scorePhoto(plain, 8 * KB - 1, 'image/jpeg', sent)), ['-2 under 8 KB']);
  t.same(reasons(scorePhoto(plain, 8 * KB, 'image/jpeg', sent)), []);
  t.same(reasons(scorePhoto(plain, 100 * KB - 1, 'image/jpeg', sent)), []);
  t.same(reasons(scorePhoto(plain, 100 * KB, 'image/jpeg', sent)), ['+1 over 100 KB']);
  t.equal(scorePhoto(plain, 100 * KB, 'image/jpeg', sent).score, 2);
  t.equal(scorePhoto(plain, 8 * KB - 1, 'image/jpeg', sent).score, -1);
});

t.test('pixels: 1000 on the long side is a camera size, 999 medium; 480x320 medium, 479 or 319 not; 256 an icon, 257 not', async (t) => {
  const at = (width: number, height: number) => reasons(scorePhoto({ ...plain, width, height }, 50 * KB, 'image/png', sent));
  t.same(at(1000, 10), ['+2 1000x10 is a camera or screen size']);
  t.same(at(10, 1000), ['+2 10x1000 is a camera or screen size'], 'either side');
  t.same(at(999, 320), ['+1 medium size']);
  t.same(at(480, 320), ['+1 medium size']);
  t.same(at(320, 480), ['+1 medium size'], 'portrait');
  t.same(at(479, 320), []);
  t.same(at(480, 319), []);
  t.same(at(256, 100), ['-4 icon-sized']);
  t.same(at(257, 100), []);
  t.same(reasons(scorePhoto(plain, 50 * KB, 'image/png', sent)), [], 'no size known: neither');
});

t.test('a square is small up to 512, not at 513 or when not square; a GIF loses 2', async (t) => {
  const at = (width: number, height: number) => reasons(scorePhoto({ ...plain, width, height }, 50 * KB, 'image/png', sent));
  t.same(at(512, 512), ['+1 medium size', '-2 small square']);
  t.same(at(513, 513), ['+1 medium size']);
  t.same(at(500, 499), ['+1 medium size']);
  t.same(reasons(scorePhoto(plain, 50 * KB, 'image/gif', sent)), ['-2 GIF']);
});

t.test('EXIF and names: camera 3, GPS 3, time 1, exposure 1; the file name decides the kind', async (t) => {
  const exif = scorePhoto({ make: 'Google', gps: [48.1, 11.5], takenAt: '2026:11:27 18:30:11', hasExposure: true }, 50 * KB, 'image/jpeg', sent);
  t.same(reasons(exif), ['+3 camera make/model in EXIF', '+3 GPS position in EXIF', '+1 capture time in EXIF', '+1 exposure settings in EXIF']);
  t.equal(exif.score, 9);
  t.equal(exif.kind, 'camera photo');
  t.equal(scorePhoto(plain, 50 * KB, 'image/png', { direction: 'request', fileName: 'Screenshot_20261127.png' }).kind, 'screenshot');
  t.equal(scorePhoto(plain, 50 * KB, 'image/png', { direction: 'request', fileName: 'PXL_20261127_183011.jpg' }).kind, 'camera photo');
  t.equal(scorePhoto(plain, 50 * KB, 'image/png', { direction: 'request', fileName: 'avatar.png' }).kind, 'image');
  const named = (fileName: string) => reasons(scorePhoto(plain, 50 * KB, 'image/png', { direction: 'request', fileName }));
  t.same(named('PXL_20261127_183011.jpg'), ['+3 camera file name PXL_20261127_183011.jpg']);
  t.same(named('Screenshot_20261127.png'), ['+3 screenshot file name Screenshot_20261127.png']);
  t.same(named('avatar.png'), ['-3 asset file name avatar.png']);
  t.same(named('20261127_183011.jpg'), ['+3 camera file name 20261127_183011.jpg'], 'a camera\'s date_time name');
  t.same(named('2026112_183011.jpg'), [], 'seven digits of date: not one');
  t.same(named('20261127_18301.jpg'), [], 'five of time: not one');
  t.equal(scorePhoto({ make: 'Google', hasExposure: false }, 50 * KB, 'image/png', sent).kind, 'camera photo', 'a make alone');
  t.equal(scorePhoto({ model: 'Pixel 9', hasExposure: false }, 50 * KB, 'image/png', sent).kind, 'camera photo', 'a model alone');
  t.equal(scorePhoto({ hasExposure: true }, 50 * KB, 'image/png', sent).kind, 'camera photo', 'exposure alone');
  const received = scorePhoto(plain, 50 * KB, 'image/png', { direction: 'response' });
  t.same(received.reasons, ['-1 sent to the device']);
});
