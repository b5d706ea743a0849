import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import t from 'tap';
import { connectTunnel, startLab, startOrigin } from '../helpers/lab.js';

t.test('half-close', async (t) => {
  const lab = await startLab();
  const server = net.createServer({ allowHalfOpen: true }, (c) => { let text = ''; c.on('data', (d) => { text += d; if (text.includes('\r\n\r\n')) setTimeout(() => c.end('HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nanswer'), 50); }); c.on('end', () => undefined); });
  server.listen(0, '127.0.0.1'); await once(server, 'listening');
  const origin = { port: (server.address() as net.AddressInfo).port, close: async () => { server.close(); } };
  const secure = await startOrigin({ tls: true, handler: (req, res) => { req.resume(); req.on('end', () => setTimeout(() => res.end('answer'), 50)); } });
  t.teardown(async () => { await lab.close(); await origin.close(); await secure.close(); });
  const collect = async (socket: net.Socket) => { let text = ''; socket.on('data', (d) => { text += d; }); socket.on('error', () => undefined); await once(socket, 'close'); return text; };
  // direct plain
  { const s = net.connect({ port: origin.port, host: '127.0.0.1', allowHalfOpen: true }); await once(s, 'connect'); s.end(`GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`); t.comment('direct', JSON.stringify(await collect(s))); }
  // proxy absolute-form
  { const s = net.connect({ port: lab.port, host: '127.0.0.1', allowHalfOpen: true }); await once(s, 'connect'); s.end(`GET http://api.example.test:${origin.port}/p HTTP/1.1\r\nHost: api.example.test:${origin.port}\r\nConnection: close\r\n\r\n`); t.comment('absolute-form', JSON.stringify(await collect(s))); }
  // tunnel, plain inside
  { const { socket } = await connectTunnel(lab.port, `api.example.test:${origin.port}`); socket.end(`GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`); t.comment('tunnel plain', JSON.stringify(await collect(socket))); }
});
