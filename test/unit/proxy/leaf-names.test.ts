// What a leaf for the device names: the server certificate's names as Node gives them, read
// without inventing any (look-alikes: e-mail and URI entries, quoted values, bad names, CN beside
// a SAN), and the order and choice of names for a device that gave a name or only an address.

import t from 'tap';
import { leafNames, namesOfServerCertificate } from '../../../src/proxy/ca/leaf-names.js';

t.test('the names of a server certificate', async (t) => {
  const table: Array<{ what: string; subjectaltname?: string; cn?: string; names: string[] }> = [
    { what: 'DNS names, a wildcard and addresses, lower-case', subjectaltname: 'DNS:API.Example.com, DNS:*.cdn.example.com, IP Address:10.1.2.3, IP Address:2001:DB8:0:0:0:0:0:1', names: ['api.example.com', '*.cdn.example.com', '10.1.2.3', '2001:db8:0:0:0:0:0:1'] },
    { what: 'e-mail, URI and directory entries are no host', subjectaltname: 'email:jane@example.com, URI:https://example.com/, DirName:CN=x, DNS:example.com', names: ['example.com'] },
    { what: 'a value Node had to quote (a comma in it) is no host, and does not split', subjectaltname: 'DNS:"evil.com, DNS:victim.example", DNS:ok.example', names: ['ok.example'] },
    { what: 'a name DNS does not allow is left out (a space, a leading dash, two wildcards, a partial wildcard)', subjectaltname: 'DNS:bad name.example, DNS:-dash.example, DNS:*.*.example, DNS:a*.example, DNS:good.example', names: ['good.example'] },
    { what: 'the same name twice is kept once', subjectaltname: 'DNS:example.com, DNS:EXAMPLE.com., DNS:www.example.com', names: ['example.com', 'www.example.com'] },
    { what: 'the CN counts only without host names in the SAN', subjectaltname: 'DNS:san.example', cn: 'cn.example', names: ['san.example'] },
    { what: 'no SAN: the CN', cn: 'Legacy.Example', names: ['legacy.example'] },
    { what: 'no SAN, a CN that is an address', cn: '192.0.2.7', names: ['192.0.2.7'] },
    { what: 'a SAN of e-mail only: the CN', subjectaltname: 'email:a@b.example', cn: 'b.example', names: ['b.example'] },
    { what: 'a CN that is no host name (an organization\'s title)', cn: 'Acme Corp Root', names: [] },
    { what: 'nothing at all', names: [] },
  ];
  for (const row of table) {
    t.same(namesOfServerCertificate({ ...(row.subjectaltname !== undefined ? { subjectaltname: row.subjectaltname } : {}), ...(row.cn !== undefined ? { subject: { CN: row.cn } } : {}) }), row.names, row.what);
  }
});

t.test('a certificate naming more hosts than the limit gives the limit\'s worth', async (t) => {
  const many = Array.from({ length: 600 }, (_, i) => `DNS:h${i}.example`).join(', ');
  const names = namesOfServerCertificate({ subjectaltname: many });
  t.equal(names.length, 500);
  t.equal(names[0], 'h0.example');
});

t.test('the leaf\'s names: the asked name first, else the server\'s own only', async (t) => {
  const server = ['legacy.example', 'cdn.example', '*.static.example'];
  t.same(leafNames('cdn.example', '10.0.0.1', server), ['cdn.example', 'legacy.example', '*.static.example'], 'asked by SNI: it first, the server\'s others after, once each');
  t.same(leafNames('img.static.example', '10.0.0.1', server), ['img.static.example', ...server], 'a name covered by a wildcard stays beside it');
  t.same(leafNames('unverified.example', '10.0.0.1', undefined), ['unverified.example'], 'no server handshake seen: the asked name alone');
  t.same(leafNames(undefined, '10.0.0.1', server), server, 'an address only: the server\'s names, and not the address');
  t.same(leafNames(undefined, '10.0.0.1', ['10.0.0.1', 'x.example']), ['10.0.0.1', 'x.example'], 'the address when the certificate names it');
  t.same(leafNames(undefined, '10.0.0.1', undefined), ['10.0.0.1'], 'an address and no server handshake: the address');
  t.same(leafNames(undefined, '10.0.0.1', []), ['10.0.0.1'], 'a certificate naming no host: the address');
});
