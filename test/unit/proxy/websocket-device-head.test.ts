// The upstream upgrade request's head is made the device's: its order, case, values and repeats;
// ws's key and extension offer at the device's places; Proxy-* left with us.

import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { setDeviceHead } from '../../../src/proxy/layers/websocket-device-head.js';

/** Sends a request whose head ws would have written, made the device's, and returns the head a server read. */
async function headRead(t: Test, wsHeaders: Record<string, string>, deviceRaw: string[]): Promise<string> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const received = new Promise<string>((resolve) => {
    server.once('connection', (socket) => {
      let bytes = '';
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.toString('latin1');
        const end = bytes.indexOf('\r\n\r\n');
        if (end >= 0) {
          resolve(bytes.slice(0, end));
          socket.destroy();
        }
      });
    });
  });
  const request = http.request({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, path: '/chat', headers: wsHeaders, agent: false });
  request.on('error', () => undefined);
  setDeviceHead(request, deviceRaw);
  request.end();
  return received;
}

const ws = { 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'd3Mta2V5LW9mLXRoZS1wcm94eQ==', Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Protocol': 'chat.v2,chat.v1' };

t.test('the device\'s fields in its order and case; the key is ws\'s, at the device\'s place', async (t) => {
  const head = await headRead(t, ws, ['X-Device', 'okhttp', 'Sec-WebSocket-Protocol', 'chat.v2, chat.v1', 'Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Key', 'ZGV2aWNlLWtleS0xMjM0NQ==', 'Sec-WebSocket-Version', '13', 'Host', 'ws.example.test:443', 'Proxy-Authorization', 'Basic eDp5']);
  t.equal(head, 'GET /chat HTTP/1.1\r\nX-Device: okhttp\r\nSec-WebSocket-Protocol: chat.v2, chat.v1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: d3Mta2V5LW9mLXRoZS1wcm94eQ==\r\nSec-WebSocket-Version: 13\r\nHost: ws.example.test:443');
});

t.test('a repeated name as its lines (Cookie joined with "; ", as Node writes a repeated Cookie); lower-case names stay lower case', async (t) => {
  const head = await headRead(t, ws, ['host', 'a.test', 'upgrade', 'websocket', 'connection', 'Upgrade', 'sec-websocket-key', 'x', 'sec-websocket-version', '13', 'cookie', 'a=1', 'x-seen', 'one', 'cookie', 'b=2', 'X-Seen', 'two']);
  t.equal(head, 'GET /chat HTTP/1.1\r\nhost: a.test\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: d3Mta2V5LW9mLXRoZS1wcm94eQ==\r\nsec-websocket-version: 13\r\ncookie: a=1; b=2\r\nx-seen: one\r\nx-seen: two');
});

t.test('an extension offer: ws\'s where ws made one, none where it did not', async (t) => {
  const device = ['Host', 'a.test', 'Sec-WebSocket-Extensions', 'permessage-deflate;client_max_window_bits', 'Sec-WebSocket-Key', 'x'];
  const offered = await headRead(t, { ...ws, 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' }, device);
  t.match(offered, /\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n/, 'ws\'s offer, at the device\'s place');
  const none = await headRead(t, ws, ['Host', 'a.test', 'Sec-WebSocket-Extensions', 'x-webkit-deflate-frame', 'Sec-WebSocket-Key', 'x']);
  t.notMatch(none, /extensions/i, 'an offer ws cannot speak is not sent');
});
