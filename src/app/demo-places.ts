// Where the demo's simulated servers "are". The demo runs on loopback, which has no country; so
// that its report and live view show what a real run shows (the Redmi story: photos and messages
// going to China), each demo server answers on its own loopback address, and the demo tells the
// location lookup which country to give that address. Marked as simulated wherever a network
// name is shown; used by the demo only, never by a capture.

import type { DestinationInfo } from '../enrich/destination-lookup.js';

export const DEMO_NETWORK = 'simulated placement (phonehome demo)';

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
  ['analytics.demo', '127.0.0.3'],
  ['smtp.cloud.demo', '127.0.0.4'],
  ['config.weather.demo', '127.0.0.4'],
  ['pinned.bank.demo', '127.0.0.5'],
]);

/** The loopback address a demo name resolves to (127.0.0.1 for names not placed). */
export function demoAddressOf(hostname: string): string {
  return hostAddresses.get(hostname.toLowerCase()) ?? '127.0.0.1';
}
