// A resolver for the proxy's upstream connections that sends every name under one suffix
// (`.demo`, `.test`) to a loopback address (127.0.0.1 unless `addressOf` places it elsewhere in
// 127/8) and everything else to the system resolver. For the demo and
// the tests only: real runs resolve names as the device would.

import dns from 'node:dns';
import type net from 'node:net';

export function loopbackLookup(suffix: string, addressOf: (hostname: string) => string = () => '127.0.0.1'): net.LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    if (hostname.endsWith(suffix)) {
      const address = addressOf(hostname);
      if ((options as { all?: boolean }).all) callback(null, [{ address, family: 4 }]);
      else callback(null, address, 4);
      return;
    }
    dns.lookup(hostname, options, callback as never);
  }) as net.LookupFunction;
}
