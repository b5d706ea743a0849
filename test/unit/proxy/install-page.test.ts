// The install page's downloads: the iOS profile carries our CA as a trusted root; the CA folder is
// tightened to 0700 even when it was created looser (a git checkout gives folders 0755).

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { CertificateAuthority } from '../../../src/proxy/ca/certificate-authority.js';
import { mobileconfig } from '../../../src/proxy/install-page.js';
import { httpViaProxy, startLab, tempDir } from '../../helpers/lab.js';

t.test('the .mobileconfig is a configuration profile whose root payload is our CA, stable per CA', async (t) => {
  const ca = CertificateAuthority.loadOrCreate(path.join(tempDir(), 'ca'));
  const profile = mobileconfig(ca);
  t.match(profile, /<key>PayloadType<\/key>\s*<string>com\.apple\.security\.root<\/string>/);
  t.match(profile, /<key>PayloadType<\/key>\s*<string>Configuration<\/string>/);
  const data = /<data>([\s\S]*?)<\/data>/.exec(profile)![1]!.replace(/\s+/g, '');
  t.ok(Buffer.from(data, 'base64').equals(ca.certDer()), 'the payload is the CA certificate (DER)');
  const uuids = [...profile.matchAll(/<key>PayloadUUID<\/key>\s*<string>([0-9A-F-]{36})<\/string>/g)].map((m) => m[1]);
  t.equal(new Set(uuids).size, 2);
  t.equal(mobileconfig(ca), profile, 'the same CA gives the same profile');
});

t.test('the install page serves the profile with Apple\'s content type', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const res = await httpViaProxy({ proxyPort: lab.port, url: 'http://phonehome.cert/phonehome-ca.mobileconfig' });
  t.equal(res.status, 200);
  t.equal(res.headers['content-type'], 'application/x-apple-aspen-config');
  t.match(res.body.toString(), /com\.apple\.security\.root/);
  const page = await httpViaProxy({ proxyPort: lab.port, url: 'http://phonehome.cert/' });
  t.match(page.body.toString(), /href="\/phonehome-ca\.mobileconfig"/);
});

t.test('a CA folder made looser than 0700 is tightened', async (t) => {
  const dir = path.join(tempDir(), 'certs');
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  CertificateAuthority.loadOrCreate(dir);
  t.equal(fs.statSync(dir).mode & 0o777, 0o700);
});
