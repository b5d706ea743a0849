// undici, the HTTP client inside Node's fetch (and of Electron apps and Node services on devices),
// direct and through the proxy under test as an HTTP proxy (its ProxyAgent tunnels with CONNECT;
// it has no SOCKS): a GET with a header sent twice and names in mixed case, a JSON POST, a POST
// streamed with no length (chunked in HTTP/1.1, DATA frames in HTTP/2), and fetch() with a
// form body, to an origin offering h2 and HTTP/1.1 (undici's own HTTP/2, allowH2), to one
// speaking HTTP/1.1 only, and in clear. The origin's record and what undici got must be the same.

import { Readable } from 'node:stream';
import t from 'tap';
import { Agent, fetch, ProxyAgent, request, type Dispatcher } from 'undici';
import { testLookup } from '../helpers/lab.js';
import { differential, jsonEchoHandler, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RecordingOrigin, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

/** A response as text: status, headers in undici's order (a repeated one as its values), body. */
async function rendered(response: Dispatcher.ResponseData): Promise<string> {
  const lines = [`${response.statusCode}`];
  for (const [name, value] of Object.entries(response.headers)) {
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
  }
  lines.push(await response.body.text());
  return lines.join('\n');
}

async function runUndici(context: RunContext): Promise<string> {
  const { origin, mode, proxy, caPem } = context;
  const base = `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`;
  // One connection per origin, so that the origin sees the same connections in every mode
  // (undici's pool otherwise opens a second one or not as timing has it). The ProxyAgent's
  // tunnelled TLS needs allowH2 of its own to offer h2.
  const dispatcher: Dispatcher = mode === 'direct'
    ? new Agent({ allowH2: true, connections: 1, connect: { ca: caPem, lookup: testLookup } })
    : new ProxyAgent({ uri: `http://127.0.0.1:${proxy.httpPort}`, allowH2: true, connections: 1, requestTls: { ca: caPem, allowH2: true } as never });
  const out: string[] = [];
  try {
    out.push(await rendered(await request(`${base}/profile?id=42`, {
      dispatcher,
      // A repeated header as an array value: the ProxyAgent keeps the last of a repeated name given
      // in a flat list (its buildHeaders), which would differ at the client, not at the proxy.
      headers: { 'X-Device': 'undici-conformance', 'x-Trace-ID': 'a1', 'X-Seen': ['one', 'two'] },
    })));
    out.push(await rendered(await request(`${base}/contacts`, {
      dispatcher, method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ name: 'Ada', phone: '+44 20 7946 0000' }),
    })));
    const sms = Buffer.from('sms:+33612345678:Rendez-vous à 18h, code 4921\n'.repeat(400));
    out.push(await rendered(await request(`${base}/sync/messages`, {
      dispatcher, method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: Readable.from((function* () { for (let at = 0; at < sms.length; at += 4096) yield sms.subarray(at, at + 4096); })()),
    })));
    const form = await fetch(`${base}/form`, { dispatcher, method: 'POST', body: new URLSearchParams({ imei: '353456789012348', note: 'a b&c' }) } as Parameters<typeof fetch>[1]);
    out.push(`${form.status} ${form.headers.get('content-type')}\n${await form.text()}`);
  } catch (error) {
    out.push(`error ${(error as Error).message}`);
  } finally {
    await dispatcher.close();
  }
  return out.join('\n\n');
}

t.test('undici', async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const scenario = (name: string) => ({ name, run: runUndici, modes: ['http-proxy'] as const });
  const origins: Array<[string, () => Promise<RecordingOrigin>]> = [
    ['an origin offering h2 and HTTP/1.1: undici\'s HTTP/2 through CONNECT', () => startRecordingOrigin({ tls: true, alpn: ['h2', 'http/1.1'], handler: jsonEchoHandler as never })],
    ['an origin speaking HTTP/1.1 only', () => startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never })],
    ['an origin in clear (through a CONNECT tunnel too)', () => startRecordingOrigin({ handler: jsonEchoHandler as never })],
  ];
  const names = ['undici requests + fetch (h2)', 'undici requests + fetch (http/1.1 over TLS)', 'undici requests + fetch (http)'];
  for (const [i, [title, start]] of origins.entries()) {
    t.test(title, async (t) => {
      const origin = await start();
      t.teardown(() => origin.close());
      await differential(t, proxy, origin, scenario(names[i]!), knownDifferences);
    });
  }
});
