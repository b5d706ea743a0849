// Alt-Svc through the real proxy: the device is not told about HTTP/3 (so it stays on TCP, which
// phonehome sees), other alternatives reach it as sent, and the flow keeps the server's header.

import t from 'tap';
import { h2Request, h2ViaProxy, httpViaProxy, httpsViaProxy, startH2Origin, startLab, startOrigin } from '../helpers/lab.js';
import { headerValue } from '../../src/model/flow.js';

const sent = 'h3=":443"; ma=86400, h2=":443"';

t.test('HTTP/1.1 over TLS: Alt-Svc reaches the device without h3; the flow keeps the original, tagged', async (t) => {
  const origin = await startOrigin({ tls: true, handler: (req, res) => {
    if (req.url === '/only-h3') res.setHeader('Alt-Svc', 'h3=":443"; ma=86400, h3-29=":443"');
    else if (req.url === '/look-alike') res.setHeader('Alt-Svc', 'h2="h3.example.test:443"; ma=60');
    else res.setHeader('Alt-Svc', sent);
    res.end('ok');
  } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const trust = lab.ca.certPem;

  const response = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, path: '/both', trust });
  t.equal(response.status, 200);
  t.equal(response.headers['alt-svc'], 'h2=":443"');
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/both') === true);
  t.equal(headerValue(flow.response!.headers, 'alt-svc'), sent, 'the flow keeps the header as the server sent it');
  t.ok(flow.tags.includes('alt-svc:h3-removed'));

  const onlyH3 = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, path: '/only-h3', trust });
  t.notOk('alt-svc' in onlyH3.headers, 'nothing left: no header at all');
  const onlyFlow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/only-h3') === true);
  t.ok(onlyFlow.tags.includes('alt-svc:h3-removed'));

  const lookAlike = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, path: '/look-alike', trust });
  t.equal(lookAlike.headers['alt-svc'], 'h2="h3.example.test:443"; ma=60', 'a host named h3 is not HTTP/3');
  const lookFlow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/look-alike') === true);
  t.notOk(lookFlow.tags.includes('alt-svc:h3-removed'));
});

t.test('plain HTTP/1.1 through the proxy port: the same', async (t) => {
  const origin = await startOrigin({ tls: false, handler: (_req, res) => {
    res.setHeader('Alt-Svc', sent);
    res.end('ok');
  } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const response = await httpViaProxy({ proxyPort: lab.port, url: `http://api.example.test:${origin.port}/plain` });
  t.equal(response.headers['alt-svc'], 'h2=":443"');
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/plain') === true);
  t.equal(headerValue(flow.response!.headers, 'alt-svc'), sent);
  t.ok(flow.tags.includes('alt-svc:h3-removed'));
});

t.test('HTTP/2: Alt-Svc reaches the device without h3; the flow keeps the original, tagged', async (t) => {
  const origin = await startH2Origin({ onStream: (stream, headers) => {
    const path = String(headers[':path']);
    stream.respond({ ':status': 200, ...(path === '/none' ? {} : { 'alt-svc': path === '/only-h3' ? 'h3=":443"' : sent }) });
    stream.end('ok');
  } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { session } = await h2ViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, trust: lab.ca.certPem });
  t.ok(session, 'the device speaks h2 with phonehome');
  t.teardown(() => session?.close());

  const both = await h2Request(session!, { ':method': 'GET', ':path': '/both' });
  t.equal(both.headers['alt-svc'], 'h2=":443"');
  const flow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/both') === true);
  t.equal(flow.response?.httpVersion, 'HTTP/2.0');
  t.equal(headerValue(flow.response!.headers, 'alt-svc'), sent);
  t.ok(flow.tags.includes('alt-svc:h3-removed'));

  const onlyH3 = await h2Request(session!, { ':method': 'GET', ':path': '/only-h3' });
  t.notOk('alt-svc' in onlyH3.headers);

  const none = await h2Request(session!, { ':method': 'GET', ':path': '/none' });
  t.equal(none.status, 200);
  const noneFlow = await lab.next('flow:end', (f) => f.request?.url.endsWith('/none') === true);
  t.notOk(noneFlow.tags.includes('alt-svc:h3-removed'), 'no tag without Alt-Svc');
});
