// Connections whose first bytes the proxy peeks (src/proxy/socket-peek.ts), through the real proxy
// on 127.0.0.1: whole TLS exchanges work, and devices that leave early (silent, half a
// ClientHello, a reset in the middle of one) let go of every descriptor at once, the peek's own
// included. Before a reset failed the peek, such a connection stayed open until the 10 s
// ClientHello timeout.

import t from 'tap';
import fs from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { socketPeekAvailable } from '../../src/proxy/socket-peek.js';
import { connectTunnel, startLab, startOrigin, until } from '../helpers/lab.js';

const skip = socketPeekAvailable() ? false : 'the socket-peek addon is not built here (Linux only; node native/build.mjs)';
const openDescriptors = (): number => fs.readdirSync('/proc/self/fd').length;

t.test('peeked connections: whole exchanges answer, and devices that leave early free every descriptor', { skip }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const origin = await startOrigin({ tls: true, hostname: 'photos.example.test', handler: (req, res) => { req.resume(); req.on('end', () => res.end('stored')); } });
  t.teardown(() => origin.close());
  const authority = `photos.example.test:${origin.port}`;

  const exchange = async (): Promise<string> => {
    const { socket } = await connectTunnel(lab.port, authority);
    const secure = tls.connect({ socket, servername: 'photos.example.test', ca: lab.ca.certPem });
    await once(secure, 'secureConnect');
    secure.write('POST /upload HTTP/1.1\r\nHost: photos.example.test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nphoto');
    const chunks: Buffer[] = [];
    for await (const chunk of secure) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('latin1');
  };
  const answers = await Promise.all(Array.from({ length: 10 }, exchange));
  t.same(answers.filter((answer) => !(answer.startsWith('HTTP/1.1 200') && answer.endsWith('stored'))), [], '10 of 10 answered through peeked ClientHellos');

  const before = openDescriptors();
  const leaving = async (kind: 'silent' | 'half' | 'reset'): Promise<void> => {
    const { socket } = await connectTunnel(lab.port, authority);
    socket.on('error', () => undefined);
    const closed = once(socket, 'close');
    if (kind === 'silent') socket.end();
    if (kind === 'half') socket.end(Buffer.from([0x16, 3, 1, 2, 0, 1, 0]));
    if (kind === 'reset') {
      socket.write(Buffer.from([0x16, 3, 1]));
      (socket as net.Socket).resetAndDestroy();
    }
    await closed;
  };
  await Promise.all((['silent', 'half', 'reset'] as const).flatMap((kind) => Array.from({ length: 10 }, () => leaving(kind))));
  // Well under the ClientHello timeout (10 s), which a lingering connection would wait out.
  await until(() => openDescriptors() <= before, 5_000, `descriptors back to ${before} (now ${openDescriptors()})`);
  t.pass(`descriptors back to ${before}`);
});
