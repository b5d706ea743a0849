// A resolver for the proxy's upstream connections that sends every name under one suffix
// (`.demo`, `.test`) to 127.0.0.1 and everything else to the system resolver. For the demo and
// the tests only: real runs resolve names as the device would.

import dns from 'node:dns';
import type net from 'node:net';

export function loopbackLookup(suffix: string): net.LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    if (hostname.endsWith(suffix)) {
      if ((options as { all?: boolean }).all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
      return;
    }
    dns.lookup(hostname, options, callback as never);
  }) as net.LookupFunction;
}
