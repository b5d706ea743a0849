// What a leaf for the device looks like: the server certificate's names as Node gives them, read
// without inventing any (look-alikes: e-mail and URI entries, quoted values, bad names, CN beside
// a SAN), its kind of key, and the order and choice of names for a device that gave a name or
// only an address.

import t from 'tap';
import { leafShape, mirroredInvalidShape, namesOfServerCertificate, shapeOfServerCertificate } from '../../../src/proxy/ca/leaf-shape.js';

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

t.test('the kind of key: ECDSA on the server\'s curve when its key is on one, else RSA', async (t) => {
  t.same(shapeOfServerCertificate({ subjectaltname: 'DNS:ec.example', asn1Curve: 'prime256v1' }), { names: ['ec.example'], keyType: 'ec' });
  t.same(shapeOfServerCertificate({ subjectaltname: 'DNS:ec.example', asn1Curve: 'secp384r1' }), { names: ['ec.example'], keyType: 'ec-p384' }, 'P-384');
  t.same(shapeOfServerCertificate({ subjectaltname: 'DNS:ec.example', asn1Curve: 'secp521r1' }), { names: ['ec.example'], keyType: 'ec-p521' }, 'P-521');
  t.same(shapeOfServerCertificate({ subjectaltname: 'DNS:ec.example', asn1Curve: 'brainpoolP256r1' }), { names: ['ec.example'], keyType: 'ec' }, 'a curve we do not issue on: P-256');
  t.same(shapeOfServerCertificate({ subjectaltname: 'DNS:rsa.example' }), { names: ['rsa.example'], keyType: 'rsa' });
});

t.test('the leaf\'s names: the asked name first, else the server\'s own only; the server\'s kind of key', async (t) => {
  const server = { names: ['legacy.example', 'cdn.example', '*.static.example'], keyType: 'ec' } as const;
  const names = (asked: string | undefined, shape: Parameters<typeof leafShape>[2]): readonly string[] => leafShape(asked, '10.0.0.1', shape).names;
  t.same(names('cdn.example', server), ['cdn.example', 'legacy.example', '*.static.example'], 'asked by SNI: it first, the server\'s others after, once each');
  t.same(names('img.static.example', server), ['img.static.example', ...server.names], 'a name covered by a wildcard stays beside it');
  t.same(names('unverified.example', undefined), ['unverified.example'], 'no server handshake seen: the asked name alone');
  t.same(names(undefined, server), server.names, 'an address only: the server\'s names, and not the address');
  t.same(names(undefined, { names: ['10.0.0.1', 'x.example'], keyType: 'rsa' }), ['10.0.0.1', 'x.example'], 'the address when the certificate names it');
  t.same(names(undefined, undefined), ['10.0.0.1'], 'an address and no server handshake: the address');
  t.same(names(undefined, { names: [], keyType: 'rsa' }), ['10.0.0.1'], 'a certificate naming no host: the address');
  t.equal(leafShape('cdn.example', '10.0.0.1', server).keyType, 'ec', 'the server\'s kind of key');
  t.equal(leafShape('cdn.example', '10.0.0.1', undefined).keyType, 'rsa', 'RSA when the server was not seen');
});

t.test('a leaf as invalid as a server certificate that did not verify, by Node\'s reason', async (t) => {
  const server = { names: ['cdn.example', '*.cdn.example'], keyType: 'ec' } as const;
  const usual = leafShape('app.example', '10.0.0.1', server);
  const period = { notBefore: '2024-01-01T00:00:00.000Z', notAfter: '2025-01-01T00:00:00.000Z' };
  const rows: Array<[code: string, expected: object, what: string]> = [
    ['CERT_HAS_EXPIRED', { ...usual, period }, 'expired: the usual leaf with the server\'s dates'],
    ['CERT_NOT_YET_VALID', { ...usual, period }, 'not yet valid: the same'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', { names: ['cdn.example', '*.cdn.example'], keyType: 'ec' }, 'other names: the server\'s alone, without the one asked for'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', { ...usual, untrusted: true }, 'self-signed: signed by a CA nobody trusts'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', { ...usual, untrusted: true }, 'an unknown issuer: the same'],
    ['CERT_REVOKED', { ...usual, untrusted: true }, 'anything else: the same'],
  ];
  for (const [code, expected, what] of rows) t.same(mirroredInvalidShape(code, usual, server, period), expected, what);
  t.same(mirroredInvalidShape('ERR_TLS_CERT_ALTNAME_INVALID', usual, { names: [], keyType: 'rsa' }, period).names, ['phonehome.invalid'], 'a certificate that names nothing: a name nobody asks for');
});
