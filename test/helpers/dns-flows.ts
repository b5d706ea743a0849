// DNS flows by hand: plain data, as the DNS listener records them.

import type { DnsFlow, DnsRecord } from '../../src/model/flow.js';

let next = 1;

export function dnsFlow(name: string, overrides: Partial<Omit<DnsFlow, 'dns'>> & { type?: string; at?: string; dns?: Partial<DnsRecord> } = {}): DnsFlow {
  const { type, at, dns, ...rest } = overrides;
  const time = at ?? '2026-11-27T18:30:11.000Z';
  return {
    id: `fl-dns-${String(next++).padStart(4, '0')}`, kind: 'dns', startedAt: time, endedAt: time, durationMs: 3,
    client: { ip: '10.64.0.2', port: 40000 + (next % 1000), name: 'phone' }, mode: 'wireguard',
    target: { host: '10.64.0.1', port: 53 }, scheme: 'dns', destination: { ip: '9.9.9.9', port: 53 },
    dns: { name, type: type ?? 'A', rcode: 'NOERROR', answers: [], upstream: '9.9.9.9:53', ...dns },
    bytesUp: 30 + name.length, bytesDown: 46 + name.length, tags: [], ...rest,
  };
}
