import t from 'tap';
import tls from 'node:tls';
import { connectTunnel, getOriginCa, httpsViaProxy, startLab, startOrigin, within } from '../helpers/lab.js';
import { PassthroughPolicy } from '../../src/proxy/passthrough.js';

t.test('a pinning client fails once, is recorded, then passes through and works', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'pinned.example.test', handler: (_req, res) => res.end('real server') });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  // The app trusts only the real server's CA: our leaf is refused.
  const pinnedTrust = getOriginCa().certPem;

  await t.rejects(httpsViaProxy({ proxyPort: lab.port, host: 'pinned.example.test', port: origin.port, trust: pinnedTrust }));
  const failure = await lab.next('tls:failed');
  t.equal(failure.host, 'pinned.example.test');
  t.equal(failure.sni, 'pinned.example.test');
  t.equal(failure.client.ip, '127.0.0.1');
  t.ok(failure.learnedPassthrough);
  t.match(failure.reason, /alert|reset|closed/);
  const failedFlow = await lab.next('flow:end', (f) => f.kind === 'tls-failed');
  t.ok(failedFlow.tags.includes('passthrough:learned'));

  const second = await httpsViaProxy({ proxyPort: lab.port, host: 'pinned.example.test', port: origin.port, trust: pinnedTrust });
  t.equal(second.status, 200);
  t.equal(second.body.toString(), 'real server');
  const tunnel = await lab.next('tunnel:end');
  t.equal(tunnel.kind, 'tunnel');
  t.ok(tunnel.tags.includes('passthrough:learned'));
  t.ok(tunnel.bytesUp > 0 && tunnel.bytesDown > 0, `bytes ${tunnel.bytesUp} up, ${tunnel.bytesDown} down`);
  t.equal(tunnel.destination?.ip, '127.0.0.1');
  t.same(lab.passthrough.learned().map((h) => h.host), ['pinned.example.test']);
});

t.test('an app that checks pins after the handshake and hangs up is learned too', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'okhttp.example.test', handler: (_req, res) => res.end('real server') });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { socket } = await connectTunnel(lab.port, `okhttp.example.test:${origin.port}`);
  const secure = tls.connect({ socket, ca: lab.ca.certPem, servername: 'okhttp.example.test' });
  await new Promise((resolve, reject) => { secure.once('secureConnect', resolve); secure.once('error', reject); });
  secure.end(); // pin mismatch: close without a request
  const failure = await lab.next('tls:failed');
  t.equal(failure.host, 'okhttp.example.test');
  t.ok(failure.learnedPassthrough);
  t.match(failure.reason, /without sending a request/);
  t.equal(lab.passthrough.decide('okhttp.example.test'), 'learned');
});

t.test('--passthrough hosts are tunnelled without decryption from the start', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'api.bank.test', handler: (_req, res) => res.end('untouched') });
  const lab = await startLab({ passthrough: new PassthroughPolicy(['*.bank.test']) });
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const res = await httpsViaProxy({ proxyPort: lab.port, host: 'api.bank.test', port: origin.port, trust: getOriginCa().certPem });
  t.equal(res.body.toString(), 'untouched');
  const tunnel = await lab.next('tunnel:end');
  t.ok(tunnel.tags.includes('passthrough:configured'));
  t.equal(lab.flows.filter((f) => f.kind === 'http').length, 0, 'nothing decrypted');
});

t.test('a passthrough target that cannot be reached gets 502, not a hang', async (t) => {
  const lab = await startLab({ passthrough: new PassthroughPolicy(['down.test']) });
  t.teardown(() => lab.close());
  const { status, socket } = await connectTunnel(lab.port, 'down.test:1');
  socket.destroy();
  t.equal(status, 502);
  const flow = await lab.next('tunnel:end');
  t.match(flow.error, /upstream: ECONNREFUSED/);
});

t.test('after a 502 for an unreachable passthrough target, a client that closes politely (FIN) is closed too: no descriptor left behind', async (t) => {
  const lab = await startLab({ passthrough: new PassthroughPolicy(['down.test']) });
  t.teardown(() => lab.close());
  const { status, socket } = await connectTunnel(lab.port, 'down.test:1');
  t.equal(status, 502);
  socket.on('error', () => undefined);
  // Like a TLS client that did not read the 502: a ClientHello goes out anyway, then it gives up.
  socket.end(Buffer.from([0x16, 3, 1, 0, 4, 1, 0, 0, 0]));
  const flow = await within(lab.next('tunnel:end'), 8_000, 'the tunnel to close once the client sent its FIN');
  t.match(flow.error, /upstream: ECONNREFUSED/);
});

t.test('TLS garbage is a failed handshake, not a pinning verdict', async (t) => {
  const lab = await startLab();
  const origin = await startOrigin({ tls: true, hostname: 'garbage.example.test', handler: (_req, res) => res.end('ok') });
  t.teardown(async () => { await lab.close(); await origin.close(); });
  const { socket } = await connectTunnel(lab.port, `garbage.example.test:${origin.port}`);
  socket.on('error', () => undefined);
  socket.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05]), Buffer.from('nonsense that is not a hello')]));
  const flow = await lab.next('flow:end', (f) => f.kind === 'tls-failed');
  t.notOk(flow.tags.includes('tls:certificate-rejected'));
  t.equal(lab.passthrough.decide('garbage.example.test'), undefined);
  socket.destroy();
});
