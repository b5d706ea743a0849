// Every TCP connection phonehome opens to a server has Nagle's algorithm off. With it on, a request
// body of more than one TLS record went out as a full record, then the last one waited for the
// server's delayed ACK: 40 ms added to every upload over 16 KB on a kept-alive device connection
// (found with keep-alive uploads of 17 KB to 560 KB: 1 ms direct, 43-48 ms through us). Node keeps
// the state it last set on a socket under an internal symbol; that is what is read here, on the
// sockets that carried real requests to a real server.

import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import t from 'tap';
import { UpstreamConnector } from '../../src/proxy/upstream.js';
import { getOriginCa, startOrigin, testLookup } from '../helpers/lab.js';

function nagleOff(socket: net.Socket): boolean | undefined {
  const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay');
  return symbol === undefined ? undefined : (socket as unknown as Record<symbol, boolean>)[symbol];
}

function post(agent: http.Agent, url: string, body: Buffer): Promise<net.Socket> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(url, { method: 'POST', agent, lookup: testLookup, headers: { 'content-length': body.length } }, (response) => {
      response.resume();
      response.on('end', () => resolve(request.socket!));
    });
    request.on('error', reject);
    request.end(body);
  });
}

t.test('the sockets of the upstream agents and direct TLS connections have Nagle off', async (t) => {
  const handler: http.RequestListener = (request, response) => { request.resume(); request.on('end', () => response.end('ok')); };
  const secure = await startOrigin({ tls: true, hostname: 'nodelay.test', handler });
  const plain = await startOrigin({ tls: false, handler });
  const connector = new UpstreamConnector({ upstreamCaPems: [getOriginCa().certPem], insecureUpstream: false, lookup: testLookup });
  t.teardown(async () => { connector.destroy(); await secure.close(); await plain.close(); });
  const body = Buffer.alloc(40_000, 0x61);

  const deviceAgent = connector.connectionAgent(undefined, { alpn: ['http/1.1'] });
  t.teardown(() => deviceAgent.release());
  const rows: Array<[string, () => Promise<net.Socket>]> = [
    ['a device connection\'s own agent (HTTPS)', () => post(deviceAgent.nodeAgent, `https://nodelay.test:${secure.port}/up`, body)],
    ['the shared HTTPS agent', () => post(connector.agents.https, `https://nodelay.test:${secure.port}/up`, body)],
    ['the shared HTTP agent', () => post(connector.agents.http, `http://nodelay.test:${plain.port}/up`, body)],
    ['a direct TLS connection (the probe)', async () => {
      const socket = await connector.connectTls('nodelay.test', secure.port, 'nodelay.test', { alpn: ['http/1.1'] });
      socket.destroy();
      return socket;
    }],
  ];
  for (const [name, open] of rows) {
    const socket = await open();
    t.equal(nagleOff(socket), true, name);
  }
});
