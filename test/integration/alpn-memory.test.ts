// What the proxy remembers of a server's ALPN choice. A server that answered HTTP/1.1 is not probed
// again for a while: the next device connections are told HTTP/1.1 at once. When the server then
// chooses HTTP/2 (it was upgraded, or another server took its port), the memory is wrong: the
// request, written for HTTP/1.1, goes on a second connection that offers HTTP/1.1 only, and the
// device's next connection is probed again and gets HTTP/2 (before the fix, every connection got a
// 502 for the rest of the memory's ten minutes). Real servers on 127.0.0.1, the second on the port
// the first had.

import t from 'tap';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { once } from 'node:events';
import type tls from 'node:tls';
import { getOriginCa, h2Request, h2ViaProxy, startLab, startOrigin } from '../helpers/lab.js';

/** An HTTP/1.1 request on a device connection that agreed HTTP/1.1 with the proxy. */
async function http1On(secure: tls.TLSSocket, port: number): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const req = https.request({ host: 'api.example.test', port, path: '/', createConnection: () => secure });
  req.end();
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  let body = '';
  for await (const chunk of res) body += (chunk as Buffer).toString();
  secure.destroy();
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}

t.test('a server that answered HTTP/1.1, then HTTP/2 on its port: the request goes on over HTTP/1.1, the next connection is probed again', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const device = () => h2ViaProxy({ proxyPort: lab.port, host: 'api.example.test', port, trust: lab.ca.certPem });

  const legacy = await startOrigin({ tls: true, handler: (_req, res) => res.end('legacy') });
  const port = legacy.port;
  const first = await device();
  t.equal(first.tls.alpnProtocol, 'http/1.1', 'the device is given what the server chose');
  const legacyAnswer = await http1On(first.tls, port);
  t.equal(legacyAnswer.status, 200);
  t.equal(legacyAnswer.body, 'legacy');
  await legacy.close();

  // Another server on the same port, speaking HTTP/2 and, to clients that offer only that, HTTP/1.1.
  const leaf = getOriginCa().issueLeaf('api.example.test');
  const upgraded = http2.createSecureServer({ key: leaf.keyPem, cert: leaf.certPem, allowHTTP1: true }, (req, res) => {
    res.end(req.httpVersion === '2.0' ? 'upgraded, over h2' : 'upgraded, over HTTP/1.1');
  });
  let connections = 0;
  upgraded.on('connection', () => connections++);
  upgraded.on('session', (session) => t.teardown(() => session.destroy()));
  upgraded.listen(port, '127.0.0.1');
  await once(upgraded, 'listening');
  t.teardown(() => new Promise<void>((resolve) => upgraded.close(() => resolve())));

  const second = await device();
  t.equal(second.tls.alpnProtocol, 'http/1.1', 'remembered: told HTTP/1.1 without asking the server');
  const answered = await http1On(second.tls, port);
  t.equal(answered.status, 200, 'the request is not lost');
  t.equal(answered.body, 'upgraded, over HTTP/1.1');
  t.equal(connections, 2, 'one connection where the server chose h2, then one that offered HTTP/1.1 only');

  const third = await device();
  t.equal(third.tls.alpnProtocol, 'h2', 'probed again: the device is given HTTP/2, as the server now chooses');
  const answer = await h2Request(third.session!, { ':path': '/' });
  t.equal(answer.status, 200);
  t.equal(answer.body.toString(), 'upgraded, over h2');
  third.session!.close();
});
