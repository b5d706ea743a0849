// Where the demo's simulated servers "are". The demo runs on loopback, which has no country; so
// that its report and live view show what a real run shows (the Redmi story: photos and messages
// going to China), each demo server answers on its own loopback address, and the demo tells the
// location lookup which country to give that address. Marked as simulated wherever a network
// name is shown; used by the demo only, never by a capture. The same goes for the companies the
// demo's servers play (Xiaomi's cloud, an analytics SDK, an ad exchange): each entity's name says
// "(simulated)", so no report of the demo passes for evidence against a real company.

import type { DestinationInfo } from '../enrich/destination-lookup.js';
import { EntityLookup, type EntityInfo } from '../enrich/entity/entity-lookup.js';

export const DEMO_NETWORK = 'simulated placement (phonehome demo)';
const DEMO_SOURCE = 'simulated (phonehome demo)';

/** Each demo address with the country it plays. */
export const demoAddresses: ReadonlyMap<string, DestinationInfo> = new Map([
  ['127.0.0.2', { country: 'CN', asn: null, org: DEMO_NETWORK }],
  ['127.0.0.3', { country: 'US', asn: null, org: DEMO_NETWORK }],
  ['127.0.0.4', { country: 'DE', asn: null, org: DEMO_NETWORK }],
  ['127.0.0.5', { country: 'FR', asn: null, org: DEMO_NETWORK }],
]);

const hostAddresses: ReadonlyMap<string, string> = new Map([
  ['gallery.cloud.demo', '127.0.0.2'],
  ['sync.cloud.demo', '127.0.0.2'],
  ['stats.vendor.demo', '127.0.0.2'],
  ['ads.demo', '127.0.0.3'],
  // Umeng's servers are in China, like the vendor's.
  ['analytics.demo', '127.0.0.2'],
  ['smtp.cloud.demo', '127.0.0.4'],
  ['config.weather.demo', '127.0.0.4'],
  ['pinned.bank.demo', '127.0.0.5'],
]);

/** The loopback address a demo name resolves to (127.0.0.1 for names not placed). */
export function demoAddressOf(hostname: string): string {
  return hostAddresses.get(hostname.toLowerCase()) ?? '127.0.0.1';
}

/** The simulated companies keep the real ones' package prefixes, so the demo shows first-party traffic as a run would. */
const company = (entity: string, purpose: string, country: string) => (host: string): [string, EntityInfo] => {
  const packages = EntityLookup.packagesOf(entity);
  return [host, { entity: `${entity} (simulated)`, purpose, country, domain: host, source: DEMO_SOURCE, ...(packages.length > 0 ? { packages } : {}) }];
};
const xiaomi = company('Xiaomi', 'vendor cloud', 'CN');

/** The company each demo server plays, for EntityLookup.place: exact host names, so a test's other *.demo hosts stay unknown. */
export const demoEntities: ReadonlyMap<string, EntityInfo> = new Map([
  xiaomi('gallery.cloud.demo'),
  xiaomi('sync.cloud.demo'),
  xiaomi('config.weather.demo'),
  company('Xiaomi', 'analytics', 'CN')('stats.vendor.demo'),
  company('Umeng', 'analytics', 'CN')('analytics.demo'),
  company('Google', 'advertising', 'US')('ads.demo'),
  company('GMX', 'hosting', 'DE')('smtp.cloud.demo'),
  company('Banque Exemple', 'vendor cloud', 'FR')('pinned.bank.demo'),
]);
