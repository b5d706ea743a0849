// The floor of any Node.js MITM on these cores, for `npm run bench`: a relay with no recording
// and no inspection. `pipe` answers CONNECT, terminates TLS with a leaf of our CA and pipes the
// bytes to a verified upstream TLS connection; `http` does the same but parses HTTP/1.1 and
// forwards each request on a keep-alive agent (and a WebSocket's upgrade, then its bytes). Run as its own process:
//   node dist-bench/bench/bare-relay.js pipe|http PORT CA_DIR UPSTREAM_CA_PEM

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { CertificateAuthority } from '../proxy/ca/certificate-authority.js';

const [mode, portText, caDir, upstreamCaFile] = process.argv.slice(2);
const ca = CertificateAuthority.loadOrCreate(caDir!);
// One SecureContext for every upstream connection: a `ca` list would be parsed again per connection
// (and https.Agent makes it its pool key per request), which is not the floor we want to measure.
const upstreamContext = tls.createSecureContext({ ca: [...tls.rootCertificates, fs.readFileSync(upstreamCaFile!, 'utf8')] });
const contexts = new Map<string, tls.SecureContext>();
const contextFor = (host: string): tls.SecureContext => {
  let context = contexts.get(host);
  if (!context) {
    const leaf = ca.issueLeaf(host);
    // The leaf alone, as phonehome sends it (ca/leaf-store.ts).
    context = tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem });
    contexts.set(host, context);
  }
  return context;
};
const agent = new https.Agent({ keepAlive: true, maxSockets: 64, secureContext: upstreamContext });

const inner = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  const target = (req.socket as tls.TLSSocket & { target?: { host: string; port: number } }).target!;
  const upstream = https.request({ host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers, agent, servername: net.isIP(target.host) ? undefined : target.host }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
});

// WebSockets (the bench's WebSocket row): the upgrade forwarded, the server's answer written back
// as it came, then the bytes piped both ways.
inner.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
  const target = (req.socket as tls.TLSSocket & { target?: { host: string; port: number } }).target!;
  const upstream = https.request({ host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers, agent, servername: net.isIP(target.host) ? undefined : target.host });
  upstream.on('upgrade', (answer, upstreamSocket, upstreamHead) => {
    // The agent's sockets keep Nagle on; a WebSocket's small last segments then wait ~40 ms for an ACK.
    upstreamSocket.setNoDelay(true);
    const fields = answer.rawHeaders.map((value, i) => (i % 2 === 0 ? `${value}: ` : `${value}\r\n`)).join('');
    socket.write(`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}\r\n${fields}\r\n`);
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    upstreamSocket.on('error', () => socket.destroy());
    socket.on('close', () => upstreamSocket.destroy());
    upstreamSocket.pipe(socket);
    socket.pipe(upstreamSocket);
  });
  upstream.on('response', () => socket.destroy());
  upstream.on('error', () => socket.destroy());
  upstream.end();
});

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => undefined);
  socket.once('data', (first: Buffer) => {
    const match = /^CONNECT ([^\s:]+):(\d+) /.exec(first.toString('latin1'));
    if (!match) return void socket.destroy();
    const target = { host: match[1]!, port: Number(match[2]) };
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: contextFor(target.host) });
    secure.on('error', () => undefined);
    if (mode === 'http') {
      (secure as tls.TLSSocket & { target?: typeof target }).target = target;
      inner.emit('connection', secure);
      return;
    }
    const upstream = tls.connect({ host: target.host, port: target.port, secureContext: upstreamContext, ...(net.isIP(target.host) ? {} : { servername: target.host }) });
    upstream.setNoDelay(true);
    upstream.on('error', () => secure.destroy());
    secure.on('close', () => upstream.destroy());
    upstream.once('secureConnect', () => {
      secure.pipe(upstream);
      upstream.pipe(secure);
    });
  });
});
server.listen(Number(portText), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
