// axios as it is deployed in Node services, Electron apps and IoT gateways (1.6, of 2024): given an
// HTTP proxy, it sends an https:// URL to the proxy in clear, as an absolute-form
// request (`GET https://host/path HTTP/1.1`), for the proxy to make the TLS connection (it had no
// CONNECT; pinned at 1.6.8 for that, later versions tunnel with CONNECT like the other clients
// here). Squid and mitmproxy do what it asks; phonehome answered a 400 of its own until 2026-12-07.
// Direct (axios's own TLS) and through the proxy under test as an HTTP proxy (it has no SOCKS): a
// GET and a JSON POST over TLS, and in clear. The origin's record and what axios got must be the
// same, and the flow says the device sent its https request in clear.

import http from 'node:http';
import https from 'node:https';
import t from 'tap';
import axios, { type AxiosRequestConfig } from 'axios';
import { HTTPS_SENT_IN_CLEAR } from '../../src/proxy/modes/http-proxy-mode.js';
import { startLab, testLookup } from '../helpers/lab.js';
import { differential, jsonEchoHandler, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

/**
 * axios names its Host field `host` when it talks to a proxy and `Host` direct: the client's
 * doing, not the proxy's, so the origin's records are compared with that one name in lower case
 * (Scenario.proxyDialect).
 */
const hostInLowerCase = (transcript: string): string => transcript.replace(/^Host: /gm, 'host: ');

async function runAxios(context: RunContext): Promise<string> {
  const { origin, mode, proxy, caPem } = context;
  const base = `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`;
  const route: AxiosRequestConfig = mode === 'direct'
    // Kept connections, as axios keeps them through a proxy (Node's default agents do too).
    ? { httpsAgent: new https.Agent({ keepAlive: true, ca: caPem, lookup: testLookup as never }), httpAgent: new http.Agent({ keepAlive: true, lookup: testLookup as never }), proxy: false }
    : { proxy: { protocol: 'http', host: '127.0.0.1', port: proxy.httpPort } };
  const config: AxiosRequestConfig = { ...route, validateStatus: () => true, responseType: 'text', transformResponse: (body: string) => body, headers: { 'X-Device': 'axios-conformance' } };
  const out: string[] = [];
  try {
    for (const response of [
      await axios.get(`${base}/profile?id=42`, config),
      await axios.post(`${base}/contacts`, { name: 'Ada', phone: '+44 20 7946 0000' }, config),
    ]) {
      out.push(`${response.status} ${response.headers['content-type']}\n${response.data}`);
    }
  } catch (error) {
    out.push(`error ${(error as Error).message}`);
  }
  return out.join('\n');
}

t.test('axios 1.6 (an https:// URL sent to the proxy in clear)', async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  for (const secure of [true, false]) {
    const origin = await startRecordingOrigin({ tls: secure, handler: jsonEchoHandler as never });
    t.teardown(() => origin.close());
    await differential(t, proxy, origin, {
      name: `axios GET + JSON POST (${secure ? 'https' : 'http'})`,
      modes: ['http-proxy'],
      proxyDialect: hostInLowerCase,
      run: async (context) => {
        const text = await runAxios(context);
        // Two equal failures are not fidelity: axios must have read the answers.
        if (!/^200 /.test(text)) throw new Error(`axios did not get its answer: ${text}`);
        return text;
      },
    }, knownDifferences);
  }
});

t.test('the flow of an https:// URL sent in clear: its URL, its server\'s TLS, and a tag that says the device sent it in clear', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const origin = await startRecordingOrigin({ tls: true, handler: jsonEchoHandler as never });
  t.teardown(() => origin.close());
  const response = await axios.get(`https://${origin.hostname}:${origin.port}/photos?album=1`, { proxy: { protocol: 'http', host: '127.0.0.1', port: lab.port }, validateStatus: () => true });
  t.equal(response.status, 200);
  const flow = await lab.next('flow:end', (f) => f.request?.url.includes('/photos') ?? false);
  t.equal(flow.request?.url, `https://${origin.hostname}:${origin.port}/photos?album=1`);
  t.equal(flow.scheme, 'https');
  t.match(flow.tags, [HTTPS_SENT_IN_CLEAR]);
  t.equal(flow.response?.status, 200, 'answered by the origin over TLS');
});
