// The device side's newest TLS version (the server's, unless the lab bridged an older server than
// the device speaks), and the leaf store: one leaf per shape, one context per newest version.

import t from 'tap';
import { LeafStore, newestForDevice } from '../../../src/proxy/ca/leaf-store.js';
import type { TlsVersionName, TlsVersionRange } from '../../../src/proxy/layers/client-hello.js';
import { CertificateAuthority } from '../../../src/proxy/ca/certificate-authority.js';
import { tempDir } from '../../helpers/lab.js';

t.test('the newest version offered to a device', async (t) => {
  const rows: Array<[what: string, server: TlsVersionName | undefined, device: TlsVersionRange | undefined, newest: TlsVersionName]> = [
    ['the server is unknown (it was not reached)', undefined, { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'TLSv1.3'],
    ['a TLS 1.3 server', 'TLSv1.3', { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'TLSv1.3'],
    ['a TLS 1.2 server, a TLS 1.3 device: 1.2, as directly', 'TLSv1.2', { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'TLSv1.2'],
    ['a TLS 1.0 server, an Android 4.4 app', 'TLSv1', { oldest: 'TLSv1', newest: 'TLSv1' }, 'TLSv1'],
    ['a TLS 1.0 server, a legacy hello (taken to go down to 1.0): the device decides', 'TLSv1', { oldest: 'TLSv1', newest: 'TLSv1.2' }, 'TLSv1'],
    ['a TLS 1.0 server reached by --upstream-tls-min for a TLS 1.2+ device: not held to it', 'TLSv1', { oldest: 'TLSv1.2', newest: 'TLSv1.3' }, 'TLSv1.3'],
    ['no ClientHello facts', 'TLSv1.2', undefined, 'TLSv1.2'],
  ];
  for (const [what, server, device, newest] of rows) t.equal(newestForDevice(server, device), newest, what);
});

t.test('one leaf per shape, one context per newest version', async (t) => {
  const store = new LeafStore(CertificateAuthority.loadOrCreate(tempDir()));
  const shape = { names: ['a.example'], keyType: 'rsa' } as const;
  const newest = store.contextFor(shape);
  const capped = store.contextFor(shape, 'TLSv1.2');
  t.not(capped, newest, 'a context of its own');
  t.equal(store.contextFor(shape, 'TLSv1.2'), capped, 'made once');
  t.equal(store.contextFor(shape, 'TLSv1.3'), newest, 'TLS 1.3 is the default');
  t.equal(store.issuedCount, 1, 'one leaf signed for both');
  t.equal(store.cachedCount, 1);
});
