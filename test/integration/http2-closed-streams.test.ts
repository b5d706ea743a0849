// A closed HTTP/2 stream of the device's may outlive its 'close' (Node leaves a native stream whose
// last frames are still on the socket to the garbage collector). Held that long, it must not keep
// what the proxy's listeners on it reach. Here the test holds every server-side stream strongly, as
// Node may, and checks that the upstream streams (which those listeners reached) are collected.

import http2 from 'node:http2';
import { once } from 'node:events';
import type net from 'node:net';
import t from 'tap';
import { collectGarbage } from '../../src/util/collect-garbage.js';
import { h2Request, h2ViaProxy, startH2Origin, startLab } from '../helpers/lab.js';

/** The prototypes of Node's server streams and client sessions, from a throwaway pair on 127.0.0.1. */
async function http2Prototypes(): Promise<{ serverStream: http2.ServerHttp2Stream; clientSession: http2.ClientHttp2Session }> {
  const server = http2.createServer();
  const streamSeen = once(server, 'stream') as Promise<[http2.ServerHttp2Stream]>;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  const request = client.request({ ':path': '/' });
  const [stream] = await streamSeen;
  stream.respond({ ':status': 204 });
  stream.end();
  request.resume();
  await once(request, 'close');
  const prototypes = { serverStream: Object.getPrototypeOf(stream), clientSession: Object.getPrototypeOf(client) };
  client.close();
  server.close();
  return prototypes;
}

t.test('closed device streams, held past their close, keep no upstream stream alive', async (t) => {
  const prototypes = await http2Prototypes();
  const held: http2.ServerHttp2Stream[] = [];
  const upstream: { session: WeakRef<http2.ClientHttp2Session>; stream: WeakRef<http2.ClientHttp2Stream> }[] = [];
  const respond = prototypes.serverStream.respond;
  const request = prototypes.clientSession.request;
  prototypes.serverStream.respond = function (this: http2.ServerHttp2Stream, ...args: Parameters<typeof respond>) {
    held.push(this);
    return respond.apply(this, args);
  };
  prototypes.clientSession.request = function (this: http2.ClientHttp2Session, ...args: Parameters<typeof request>) {
    const stream = request.apply(this, args);
    upstream.push({ session: new WeakRef(this), stream: new WeakRef(stream) });
    return stream;
  };
  t.teardown(() => {
    prototypes.serverStream.respond = respond;
    prototypes.clientSession.request = request;
  });

  const origin = await startH2Origin({
    onStream: (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-done': '1' }));
      stream.end('answer');
    },
  });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { session } = await h2ViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, trust: lab.ca.certPem });
  for (let i = 0; i < 4; i++) {
    const response = await h2Request(session!, { ':method': 'GET', ':path': `/held-${i}` });
    t.equal(response.body.toString(), 'answer');
  }
  const post = await h2Request(session!, { ':method': 'POST', ':path': '/held-post' }, 'request body');
  t.equal(post.status, 200);
  for (let i = 0; i < 4; i++) await lab.next('flow:end', (f) => f.request?.url.endsWith(`/held-${i}`) === true);
  await lab.next('flow:end', (f) => f.request?.url.endsWith('/held-post') === true);

  // Every stream the proxy answered the device on is closed, and still held by this test.
  const closing = held.filter((stream) => !stream.closed || !stream.destroyed).map((stream) => once(stream, 'close'));
  await Promise.all(closing);
  const proxyUpstream = upstream.filter((ref) => ref.session.deref() !== session);
  t.equal(proxyUpstream.length, 5, 'the proxy opened one upstream stream per device stream');

  // WeakRefs made in a turn keep their targets until it ends: collect in later turns.
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
  }
  const alive = proxyUpstream.filter((ref) => ref.stream.deref() !== undefined).length;
  t.equal(alive, 0, 'no upstream stream is kept alive by a closed device stream');
  t.ok(held.length >= 10, 'the device streams and the origin\'s are all still held');
  session!.close();
});
