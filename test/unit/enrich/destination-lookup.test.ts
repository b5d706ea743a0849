import t from 'tap';
import { DestinationLookup } from '../../../src/enrich/destination-lookup.js';
import { specialAddressLabel } from '../../../src/enrich/address-class.js';

// Figures from the pinned database versions (package.json): an update may move an address.
const rows: Array<[string, string | null, number | null, RegExp]> = [
  ['42.62.48.10', 'CN', 23724, /China Telecom/],
  ['221.228.214.101', 'CN', 138950, /China Telecom/],
  ['161.117.0.1', 'SG', 45102, /Alibaba/],
  ['95.163.0.1', 'RU', 12695, /Digital Network/],
  ['8.8.8.8', 'US', 15169, /Google/],
  ['2001:4860:4860::8888', 'US', 15169, /Google/],
  ['::ffff:8.8.8.8', 'US', 15169, /Google/],
  ['2606:4700:4700::1111', 'US', 13335, /Cloudflare/],
  ['192.168.1.23', null, null, /^private network$/],
  ['10.0.0.1', null, null, /^private network$/],
  ['127.0.0.1', null, null, /^loopback$/],
  ['::1', null, null, /^loopback$/],
  ['100.64.1.1', null, null, /^carrier-grade NAT$/],
  ['fe80::1', null, null, /^link-local$/],
];

t.test('countries and networks from the offline databases', async (t) => {
  const lookup = await DestinationLookup.shared();
  for (const [ip, country, asn, org] of rows) {
    const info = lookup.lookup(ip);
    t.equal(info.country, country, `${ip} country`);
    t.equal(info.asn, asn, `${ip} ASN`);
    t.match(info.org, org, `${ip} network`);
  }
  t.same(lookup.lookup(undefined), { country: null, asn: null, org: null });
  t.same(lookup.lookup('not an ip'), { country: null, asn: null, org: null });
});

t.test('special addresses are named, public ones are not', async (t) => {
  t.equal(specialAddressLabel('::ffff:192.168.0.1'), 'private network');
  t.equal(specialAddressLabel('172.31.255.255'), 'private network');
  t.equal(specialAddressLabel('172.32.0.1'), undefined);
  t.equal(specialAddressLabel('8.8.8.8'), undefined);
});
