// A reset crosses as a reset (src/proxy/connection-reset.ts), straight and through phonehome. A
// server that resets its connection after part of its answer: the client reads the part and then
// "Connection reset by peer", never a clean end, which would say the answer was whole.
// - curl, HTTP/1.0 bodies that run until close, in clear and decrypted, through the HTTP proxy
//   and SOCKS5: before, curl took the cut body for a whole one (exit 0 where direct it says 56);
// - a stream that is not HTTP, in clear and decrypted (Node's net and tls as the device), and one
//   after an HTTP upgrade;
// - an HTTP/2 connection (curl --http2): reset, not closed gracefully, and the other way (Node's
//   HTTP/2 client as the device);
// - the other way: a device that resets its connection resets the server's, in clear and
//   decrypted (a raw stream, and a stream after a 101 over TLS).
// Each reset comes once the other side has read what came before it, as the test sees: a reset
// that arrives with unread bytes is read as a clean end by some stacks (libuv's among them), direct
// as well as through phonehome, so that race is left out.

import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import t from 'tap';
import { getOriginCa, pemFile, socks5Connect, startH2Origin, startLab, within } from '../helpers/lab.js';
import { missingCommand } from './differential.js';

const skip = missingCommand('curl', 'curl');
const NAME = 'updates.example.test';

/** A server that answers each connection's first bytes with `answer`, and resets every connection when told. */
async function startResettingServer(secure: boolean, answer: string): Promise<{ port: number; resetAll(): void; close(): void }> {
  const leaf = getOriginCa().issueLeaf(NAME);
  const connections = new Set<net.Socket>();
  const server = net.createServer((raw) => {
    connections.add(raw);
    raw.on('error', () => undefined);
    raw.once('close', () => connections.delete(raw));
    const io = secure ? new tls.TLSSocket(raw, { isServer: true, secureContext: tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem }) }) : raw;
    io.on('error', () => undefined);
    io.once('data', () => io.write(answer));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    resetAll: () => { for (const raw of connections) raw.resetAndDestroy(); },
    close: () => server.close(),
  };
}

/**
 * A server that hears how each connection ends (`end`, or the error's code), over TLS or not, and
 * answers each connection's first bytes with `answer` (if any). `nextEnd` resolves when the next
 * ending is heard; `firstBytes` when the next connection's first bytes are read.
 */
async function startEndHearingServer(secure: boolean, answer?: string): Promise<{ port: number; endings: string[]; nextEnd(): Promise<void>; firstBytes(): Promise<void>; close(): void }> {
  const leaf = getOriginCa().issueLeaf(NAME);
  const endings: string[] = [];
  let heard: () => void = () => undefined;
  let received: () => void = () => undefined;
  const server = net.createServer((raw) => {
    // Over TLS, the server's TLS socket hears what its TCP connection does.
    const socket = secure ? new tls.TLSSocket(raw, { isServer: true, secureContext: tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem }) }) : raw;
    socket.once('data', () => {
      if (answer) socket.write(answer);
      received();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => { endings.push(error.code ?? error.message); heard(); });
    socket.once('end', () => { endings.push('end'); heard(); });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port, endings,
    nextEnd: () => new Promise((resolve) => { heard = resolve; }),
    firstBytes: () => new Promise((resolve) => { received = resolve; }),
    close: () => server.close(),
  };
}

/** curl fetching a body that runs until close; the server resets once curl has written the first half out (-N: unbuffered). */
async function curlUntilReset(server: { resetAll(): void }, url: string, route: readonly string[], caFile: string): Promise<string> {
  const child = spawn('curl', ['-q', '-sS', '-N', '-i', '--max-time', '20', '--cacert', caFile, ...route, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let reset = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('latin1');
    if (!reset && stdout.includes('first half')) {
      reset = true;
      server.resetAll();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const [code] = (await within(once(child, 'close'), 30_000, 'curl to end')) as [number | null];
  return `exit ${code}\n${stdout}\n${stderr.trim()}`;
}

t.test('curl and a server that resets after half its answer: the same half, then the same reset', { skip }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  for (const secure of [false, true]) {
    const server = await startResettingServer(secure, 'HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\nthe first half of a firmware image');
    t.teardown(() => server.close());
    const url = `${secure ? 'https' : 'http'}://${NAME}:${server.port}/firmware.bin`;
    const direct = await curlUntilReset(server, url, ['--resolve', `${NAME}:${server.port}:127.0.0.1`], pemFile(getOriginCa().certPem));
    t.match(direct, /^exit 56\n[^]*first half of a firmware image\ncurl: \(56\) Recv failure: Connection reset by peer$/, `${url}: directly, the half and the reset`);
    for (const route of [['--proxy', `http://127.0.0.1:${lab.port}`, '--suppress-connect-headers'], ['--proxy', `socks5h://127.0.0.1:${lab.port}`]]) {
      t.equal(await curlUntilReset(server, url, route, pemFile(lab.ca.certPem)), direct, `${url} through ${route[1]!.split(':')[0]}: the same`);
    }
  }
});

/** What a device reads of a stream until it ends (its bytes, and `end` or the error's code); `read` is told the first bytes. */
async function readToTheEnd(socket: net.Socket, read: () => void): Promise<string> {
  let received = '';
  socket.once('data', read);
  socket.on('data', (chunk: Buffer) => { received += chunk.toString('latin1'); });
  socket.resume(); // a SOCKS5 socket comes paused
  const ending = await within(new Promise<string>((resolve) => {
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.once('end', () => resolve('end'));
  }), 10_000, 'the stream to end');
  socket.destroy();
  return `${JSON.stringify(received)} then ${ending}`;
}

t.test('a stream that is not HTTP, in clear and decrypted: the server\'s answer, then its reset', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  for (const secure of [false, true]) {
    const server = await startResettingServer(secure, '\x20\x02\x00\x00');
    t.teardown(() => server.close());
    const exchange = async (through: boolean): Promise<string> => {
      const tcp = through ? (await socks5Connect(lab.port, { host: NAME, port: server.port })).socket : net.connect(server.port, '127.0.0.1');
      if (!through) await once(tcp, 'connect');
      let device: net.Socket = tcp;
      if (secure) {
        device = tls.connect({ socket: tcp, servername: NAME, ca: [getOriginCa().certPem, lab.ca.certPem] });
        await once(device, 'secureConnect');
      }
      device.write(Buffer.from('\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00', 'latin1'));
      return readToTheEnd(device, () => server.resetAll());
    };
    const direct = await exchange(false);
    t.match(direct, /then ECONNRESET$/, `${secure ? 'decrypted' : 'in clear'}: directly, the answer, then a reset (${direct})`);
    t.equal(await exchange(true), direct, `${secure ? 'decrypted' : 'in clear'}: through phonehome, the same`);
  }
});

t.test('a device that resets its connection resets the server\'s, as directly: a stream, and an HTTP/1 upload, in clear and decrypted', async (t) => {
  // An upload's case: an app that gives up on it (killed, or its connection cut). Direct, the
  // server learns the body will not come by a reset, not by a clean close after part of a body.
  const lab = await startLab();
  t.teardown(() => lab.close());
  const sent = [
    ['a stream', 'PING\r\n'],
    ['an upload', `POST /upload HTTP/1.1\r\nHost: ${NAME}\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n${'j'.repeat(1000)}`],
  ] as const;
  for (const [what, bytes] of sent) {
    for (const secure of [false, true]) {
      const server = await startEndHearingServer(secure);
      t.teardown(() => server.close());
      for (const through of [false, true]) {
        const ended = server.nextEnd();
        const arrived = server.firstBytes();
        const tcp = through ? (await socks5Connect(lab.port, { host: NAME, port: server.port })).socket : net.connect(server.port, '127.0.0.1');
        if (!through) await once(tcp, 'connect');
        const device = secure ? tls.connect({ socket: tcp, servername: NAME, ca: [getOriginCa().certPem, lab.ca.certPem], ALPNProtocols: ['http/1.1'] }) : tcp;
        if (secure) await once(device, 'secureConnect');
        device.write(bytes);
        await within(arrived, 10_000, 'the server to read the device\'s first bytes');
        // Not from inside the server's read: a TLS 1.3 server that meets the reset there reads it
        // as an end, direct as well (Node 20).
        await new Promise(setImmediate);
        tcp.resetAndDestroy();
        await within(ended, 10_000, 'the server to hear the end');
      }
      t.same(server.endings, ['ECONNRESET', 'ECONNRESET'], `${what}, ${secure ? 'decrypted' : 'in clear'}: the server heard a reset both times`);
    }
  }
});

t.test('after an upgrade (a protocol of its own after 101, as Docker\'s attach): the server\'s reset reaches the device as one', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nattached'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const exchange = async (through: boolean): Promise<string> => {
    const device = through ? (await socks5Connect(lab.port, { host: '127.0.0.1', port })).socket : net.connect(port, '127.0.0.1');
    if (!through) await once(device, 'connect');
    device.write('POST /containers/1/attach HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n');
    let read = '';
    const ending = within(new Promise<string>((resolve) => {
      device.on('data', (chunk: Buffer) => {
        read += chunk.toString('latin1');
        // The server resets once the device has read what it sent after the 101.
        if (read.endsWith('attached')) for (const socket of connections) socket.resetAndDestroy();
      });
      device.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      device.once('end', () => resolve('end'));
    }), 10_000, 'the upgraded stream to end');
    device.resume();
    const how = await ending;
    device.destroy();
    connections.clear();
    return `${JSON.stringify(read)} then ${how}`;
  };
  const direct = await exchange(false);
  t.match(direct, /attached" then ECONNRESET$/, `directly: ${direct}`);
  t.equal(await exchange(true), direct, 'through phonehome, the same 101, the same bytes and the same reset');
});

t.test('after an upgrade over TLS (Docker\'s attach on 2376): the device\'s reset reaches the server as one', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const server = await startEndHearingServer(true, 'HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nattached');
  t.teardown(() => server.close());
  for (const through of [false, true]) {
    const ended = server.nextEnd();
    const tcp = through ? (await socks5Connect(lab.port, { host: NAME, port: server.port })).socket : net.connect(server.port, '127.0.0.1');
    if (!through) await once(tcp, 'connect');
    const device = tls.connect({ socket: tcp, servername: NAME, ca: [getOriginCa().certPem, lab.ca.certPem], ALPNProtocols: ['http/1.1'] });
    await once(device, 'secureConnect');
    device.write(`POST /containers/1/attach HTTP/1.1\r\nHost: ${NAME}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`);
    let read = '';
    await within(new Promise<void>((resolve) => device.on('data', (chunk: Buffer) => {
      read += chunk.toString('latin1');
      if (read.endsWith('attached')) resolve();
    })), 10_000, 'the 101 and the first bytes after it');
    await new Promise(setImmediate); // not from inside a read (see the test above)
    tcp.resetAndDestroy();
    await within(ended, 10_000, 'the server to hear the end');
  }
  t.same(server.endings, ['ECONNRESET', 'ECONNRESET'], 'the server heard a reset both times');
});

t.test('HTTP/2: a device that resets its connection mid-answer resets the server\'s, as directly (not a graceful close)', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const leaf = getOriginCa().issueLeaf(NAME);
  const server = http2.createSecureServer({ key: leaf.keyPem, cert: leaf.certPem });
  const endings: string[] = [];
  let heard: () => void = () => undefined;
  let answering: () => void = () => undefined;
  // The server's TLS connection hears how the connection ends: a reset, or an end after GOAWAY.
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    socket.once('error', (error: NodeJS.ErrnoException) => { endings.push(error.code ?? error.message); heard(); });
    socket.once('end', () => { endings.push('end'); heard(); });
  });
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.respond({ ':status': 200 });
    stream.write('the first part of a long answer');
    answering();
  });
  server.on('sessionError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  for (const through of [false, true]) {
    const ended = new Promise<void>((resolve) => { heard = resolve; });
    const tcp = through ? (await socks5Connect(lab.port, { host: NAME, port })).socket : net.connect(port, '127.0.0.1');
    if (!through) await once(tcp, 'connect');
    const device = tls.connect({ socket: tcp, servername: NAME, ca: [getOriginCa().certPem, lab.ca.certPem], ALPNProtocols: ['h2'] });
    await once(device, 'secureConnect');
    const session = http2.connect(`https://${NAME}:${port}`, { createConnection: () => device });
    session.on('error', () => undefined);
    const request = session.request({ ':path': '/feed' });
    request.on('error', () => undefined);
    const firstPart = new Promise<void>((resolve) => request.once('data', () => resolve()));
    await within(new Promise<void>((resolve) => { answering = resolve; }), 10_000, 'the server to answer');
    await within(firstPart, 10_000, 'the device to read the first part');
    // A ping answered: the server has read all the device sent (its window updates too), so the
    // reset does not arrive with unread bytes, which the server's TCP would read as an end.
    await within(new Promise<void>((resolve) => session.ping(() => resolve())), 10_000, 'a ping answered');
    await new Promise(setImmediate); // not from inside a read (see above)
    tcp.resetAndDestroy();
    await within(ended, 10_000, 'the server to hear the end');
    session.destroy();
  }
  t.same(endings, ['ECONNRESET', 'ECONNRESET'], 'the server heard a reset both times');
});

t.test('HTTP/2 with curl: a server that resets its connection mid-answer resets the device\'s connection, as directly (not a graceful close)', { skip }, async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const raws = new Set<net.Socket>();
  const origin = await startH2Origin({
    hostname: NAME,
    onStream: (stream) => {
      stream.on('error', () => undefined);
      // A date of its own: Node's would differ between runs that straddle a second.
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', date: 'Mon, 07 Dec 2026 00:00:00 GMT' });
      stream.write('the first half of a firmware image');
    },
  });
  t.teardown(() => origin.close());
  origin.server.on('connection', (raw: net.Socket) => {
    raws.add(raw);
    raw.on('error', () => undefined);
  });
  const server = { resetAll: () => { for (const raw of raws) raw.resetAndDestroy(); raws.clear(); } };
  const url = `https://${NAME}:${origin.port}/firmware.bin`;
  const direct = await curlUntilReset(server, url, ['--http2', '--resolve', `${NAME}:${origin.port}:127.0.0.1`], pemFile(getOriginCa().certPem));
  t.match(direct, /first half of a firmware image\ncurl: \(56\) Recv failure: Connection reset by peer$/, `directly, the half and the reset: ${direct}`);
  for (const route of [['--proxy', `http://127.0.0.1:${lab.port}`, '--suppress-connect-headers'], ['--proxy', `socks5h://127.0.0.1:${lab.port}`]]) {
    t.equal(await curlUntilReset(server, url, ['--http2', ...route], pemFile(lab.ca.certPem)), direct, `through ${route[1]!.split(':')[0]}: the same`);
  }
});
