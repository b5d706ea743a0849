// What the proxy remembers of a server's ALPN choice. A server that answered HTTP/1.1 is not probed
// again for a while: the next device connections are told HTTP/1.1 at once. When the server then
// chooses HTTP/2 (it was upgraded, or another server took its port), the memory is wrong: the
// request already written for HTTP/1.1 fails with a 502 that says why, and the device's next
// connection is probed again and gets HTTP/2, instead of a 502 on every connection for the rest of
// the memory's ten minutes. Real servers on 127.0.0.1, the second on the port the first had.

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

t.test('a server that answered HTTP/1.1, then HTTP/2 on its port: one request fails and says why, the next connection is probed again', async (t) => {
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

  // Another server on the same port, speaking HTTP/2.
  const leaf = getOriginCa().issueLeaf('api.example.test');
  const upgraded = http2.createSecureServer({ key: leaf.keyPem, cert: leaf.certPem });
  upgraded.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.end('upgraded');
  });
  upgraded.on('session', (session) => t.teardown(() => session.destroy()));
  upgraded.listen(port, '127.0.0.1');
  await once(upgraded, 'listening');
  t.teardown(() => new Promise<void>((resolve) => upgraded.close(() => resolve())));

  const second = await device();
  t.equal(second.tls.alpnProtocol, 'http/1.1', 'remembered: told HTTP/1.1 without asking the server');
  const failed = await http1On(second.tls, port);
  t.equal(failed.status, 502);
  t.match(failed.headers['x-phonehome-error'], /the server chose HTTP\/2 on this connection/);

  const third = await device();
  t.equal(third.tls.alpnProtocol, 'h2', 'probed again: the device is given HTTP/2, as the server now chooses');
  const answer = await h2Request(third.session!, { ':path': '/' });
  t.equal(answer.status, 200);
  t.equal(answer.body.toString(), 'upgraded');
  third.session!.close();
});
