// An h2c offer is taken out of a request's head, and only an h2c offer: the Upgrade and
// HTTP2-Settings fields and their names in Connection; everything else as the device wrote it.
// Requests that offer anything else are not ours to decline.

import t from 'tap';
import { headWithoutH2cOffer } from '../../../src/proxy/layers/h2c-upgrade-offer.js';

const head = (raw: string[], method = 'GET', url = '/x', version = '1.1'): string | undefined => headWithoutH2cOffer(method, url, version, raw)?.toString('latin1');

t.test('offers of h2c alone are taken out', async (t) => {
  const cases: Array<{ name: string; raw: string[]; method?: string; want: string }> = [
    {
      name: "the JDK HttpClient's GET (its own order, Content-Length: 0)",
      raw: ['Connection', 'Upgrade, HTTP2-Settings', 'Content-Length', '0', 'Host', 'api.test', 'HTTP2-Settings', 'AAEAAEAAAAIAAAAAAAMAAAAAAAQBAAAAAAUAAEAAAAYABgAA', 'Upgrade', 'h2c', 'User-Agent', 'Java-http-client/17.0.15'],
      want: 'GET /x HTTP/1.1\r\nContent-Length: 0\r\nHost: api.test\r\nUser-Agent: Java-http-client/17.0.15\r\n\r\n',
    },
    {
      name: "curl --http2's POST",
      method: 'POST',
      raw: ['Host', 'api.test', 'User-Agent', 'curl/7.88.1', 'Accept', '*/*', 'Connection', 'Upgrade, HTTP2-Settings', 'Upgrade', 'h2c', 'HTTP2-Settings', 'AAMAAABkAAQCAAAAAAIAAAAA', 'Content-Length', '5'],
      want: 'POST /x HTTP/1.1\r\nHost: api.test\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nContent-Length: 5\r\n\r\n',
    },
    {
      name: 'other Connection options stay, in their order; names of any case',
      raw: ['host', 'api.test', 'connection', 'keep-alive, upgrade, http2-settings, X-Trace', 'UPGRADE', 'H2C', 'http2-settings', 'AA'],
      want: 'GET /x HTTP/1.1\r\nhost: api.test\r\nconnection: keep-alive, X-Trace\r\n\r\n',
    },
    {
      name: 'Upgrade repeated, h2c each time; latin1 values kept as read',
      raw: ['Host', 'api.test', 'Upgrade', 'h2c', 'X-Name', 'caf\u00e9', 'Upgrade', ' h2c ', 'Connection', 'Upgrade'],
      want: 'GET /x HTTP/1.1\r\nHost: api.test\r\nX-Name: caf\u00e9\r\n\r\n',
    },
  ];
  for (const c of cases) t.equal(head(c.raw, c.method), c.want, c.name);
  t.equal(headWithoutH2cOffer('GET', '/x', '1.1', ['Upgrade', 'h2c', 'X-Name', 'caf\u00e9'])?.at(-5), 0xe9, 'é is one byte, as the device sent it');
  t.equal(head(['Host', 'api.test', 'Upgrade', 'h2c'], 'GET', 'http://api.test/x?q=1'), 'GET http://api.test/x?q=1 HTTP/1.1\r\nHost: api.test\r\n\r\n', 'an absolute-form target (to the HTTP proxy) stays absolute');
});

t.test('look-alikes are left alone', async (t) => {
  const cases: Array<{ name: string; raw: string[] }> = [
    { name: 'a WebSocket upgrade', raw: ['Upgrade', 'websocket', 'Connection', 'Upgrade'] },
    { name: 'h2c offered beside another protocol', raw: ['Upgrade', 'h2c, websocket', 'Connection', 'Upgrade'] },
    { name: 'h2c on one line, another protocol on the next', raw: ['Upgrade', 'h2c', 'Upgrade', 'tcp', 'Connection', 'Upgrade'] },
    { name: 'TLS (RFC 2817)', raw: ['Upgrade', 'TLS/1.0', 'Connection', 'Upgrade'] },
    { name: 'h2 (never offered in clear)', raw: ['Upgrade', 'h2', 'Connection', 'Upgrade'] },
    { name: 'no Upgrade, an HTTP2-Settings alone', raw: ['HTTP2-Settings', 'AA', 'Connection', 'HTTP2-Settings'] },
    { name: 'an empty Upgrade', raw: ['Upgrade', '', 'Connection', 'Upgrade'] },
  ];
  for (const c of cases) t.equal(head(c.raw), undefined, c.name);
});
