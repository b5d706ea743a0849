// SOCKS5 UDP ASSOCIATE (src/proxy/modes/socks-udp-association.ts) with a real client: PySocks, as a
// VPN app forwards a phone's DNS. The same question goes straight to a resolver of the test's own and
// through phonehome: the answers must be the same bytes, and through phonehome the question is a
// `dns` flow. Other UDP (NTP here) is relayed the same way and is a `raw` flow of scheme `udp`.
// QUIC is not relayed (a rejected flow, once), and only the client that asked may send.
// The resolver listens on port 53 of a loopback address of its own: root only (helpers/socks-udp.ts).

import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { EventEmitter, once } from 'node:events';
import type { Flow } from '../../src/model/flow.js';
import { SocksUdpAssociation, type SocksUdpAssociationOptions } from '../../src/proxy/modes/socks-udp-association.js';
import { limits } from '../../src/limits.js';
import { startLab, within } from '../helpers/lab.js';
import { askOverSocks as ask, dnsQuestion as question, ownLoopback, socksUdpSkip as skip, startResolver } from '../helpers/socks-udp.js';

const RESOLVER = ownLoopback(1);
const NTP_SERVER = ownLoopback(3);

/** An NTP-shaped server: answers each 48-byte-or-more request with 48 bytes, and keeps what it got. */
async function startNtpServer(ip: string): Promise<{ port: number; received: Buffer[]; close(): void }> {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (message, from) => {
    received.push(message);
    const answer = Buffer.alloc(48, 0x24);
    socket.send(answer, from.port, from.address);
  });
  socket.bind(0, ip);
  await once(socket, 'listening');
  return { port: socket.address().port, received, close: () => socket.close() };
}

t.test('PySocks sends its DNS through UDP ASSOCIATE: the same answer as straight to the resolver, and a dns flow', { skip }, async (t) => {
  const resolver = await startResolver(RESOLVER);
  t.teardown(() => resolver.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const direct = await ask(RESOLVER, 53, question('photos.example.test', 0x1234));
  const proxied = await ask(RESOLVER, 53, question('photos.example.test', 0x1234), lab.port);
  t.match(direct, new RegExp(` ${RESOLVER.replace(/\./g, '\\.')} 53$`));
  t.equal(proxied, direct, 'the same bytes, from the resolver\'s address and port');
  t.equal(resolver.questions(), 2);
  const flow = await lab.next('flow:end', (f: Flow) => f.kind === 'dns');
  t.match(flow, { kind: 'dns', mode: 'socks5', target: { host: RESOLVER, port: 53 }, destination: { ip: RESOLVER, port: 53 }, dns: { name: 'photos.example.test', type: 'A', rcode: 'NOERROR', answers: [{ type: 'A', data: '192.0.2.7' }] } });
  t.ok(flow.tags.includes('socks:udp'));
});

t.test('NTP (any UDP but DNS and QUIC) through UDP ASSOCIATE: the same answer as straight to the server, from its address, and one raw udp flow with both sides', { skip }, async (t) => {
  const server = await startNtpServer(NTP_SERVER);
  t.teardown(() => server.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const request = Buffer.concat([Buffer.from([0x23]), Buffer.alloc(39), Buffer.from('phone-clock')]);
  const direct = await ask(NTP_SERVER, server.port, request);
  const proxied = await ask(NTP_SERVER, server.port, request, lab.port);
  t.match(direct, new RegExp(` ${NTP_SERVER.replace(/\./g, '\\.')} ${server.port}$`));
  t.equal(proxied, direct, 'the same bytes, from the server\'s address and port');
  t.same(server.received.map((b) => b.toString('hex')), [request.toString('hex'), request.toString('hex')], 'the server got the datagram as sent, both times');
  // The association ends with PySocks's TCP connection: the destination's flow is recorded then.
  const flow = await lab.next('flow:end', (f: Flow) => f.kind === 'raw');
  t.match(flow, { kind: 'raw', scheme: 'udp', mode: 'socks5', target: { host: NTP_SERVER, port: server.port }, destination: { ip: NTP_SERVER, port: server.port }, bytesUp: request.length, bytesDown: 48 });
  t.equal(flow.kind === 'raw' ? flow.stream?.up.bytes.toString('hex') : '', request.toString('hex'), 'what the device sent');
  t.equal(flow.kind === 'raw' ? flow.stream?.down.bytes.length : 0, 48, 'what the server answered');
  t.ok(flow.tags.includes('socks:udp'));
});

t.test('QUIC (UDP 443) over UDP ASSOCIATE is not relayed: a rejected flow that says so, once per destination', { skip }, async (t) => {
  const server = await startNtpServer('127.0.0.1');
  t.teardown(() => server.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const { socket: control, reply } = await udpAssociate(lab.port);
  t.teardown(() => control.destroy());
  t.equal(reply.code, 0, 'UDP ASSOCIATE succeeded');
  const sender = dgram.createSocket('udp4');
  t.teardown(() => sender.close());
  for (let i = 0; i < 3; i++) sender.send(datagram('127.0.0.1', 443, Buffer.from('quic initial')), reply.port, reply.ip);
  // Then NTP: its answer comes after the three QUIC datagrams were handled (one socket, in order).
  sender.send(datagram('127.0.0.1', server.port, Buffer.alloc(48)), reply.port, reply.ip);
  await within(once(sender, 'message'), 10_000, 'the NTP answer');
  const quic = lab.flows.filter((f) => f.kind === 'rejected' && f.target.port === 443);
  t.equal(quic.length, 1, 'three QUIC datagrams, one flow');
  t.match(quic[0], { mode: 'socks5', target: { host: '127.0.0.1', port: 443 } });
  t.ok(quic[0]!.tags.includes('quic') && quic[0]!.tags.includes('socks:udp-not-relayed'), `tags ${quic[0]!.tags}`);
  t.match(quic[0]!.error, /fall back to TCP/);
});

t.test('only the client that asked may send through its association, and it ends with its connection', { skip }, async (t) => {
  const resolver = await startResolver(RESOLVER);
  t.teardown(() => resolver.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const { socket: control, reply } = await udpAssociate(lab.port);
  t.teardown(() => control.destroy());
  // Another address (127.0.0.2) first: never forwarded.
  const stranger = dgram.createSocket('udp4');
  stranger.bind(0, '127.0.0.2');
  await once(stranger, 'listening');
  t.teardown(() => stranger.close());
  stranger.send(datagram(RESOLVER, 53, question('stranger.example.test', 1)), reply.port, reply.ip);
  const mine = dgram.createSocket('udp4');
  mine.bind(0, '127.0.0.1');
  await once(mine, 'listening');
  t.teardown(() => mine.close());
  mine.send(datagram(RESOLVER, 53, question('mine.example.test', 2)), reply.port, reply.ip);
  const [answer] = (await within(once(mine, 'message'), 10_000, 'the answer')) as [Buffer];
  t.equal(answer.subarray(0, 10).toString('hex'), Buffer.concat([Buffer.from([0, 0, 0, 1, ...RESOLVER.split('.').map(Number)]), Buffer.from([0, 53])]).toString('hex'), 'the header names the resolver');
  t.equal(dnsPacket.decode(answer.subarray(10)).questions?.[0]?.name, 'mine.example.test');
  t.equal(resolver.questions(), 1, 'the stranger\'s question was not forwarded');
  // The connection goes: so does the association's socket.
  control.destroy();
  const closed = async (): Promise<void> => {
    while (await isBound(reply.port)) await new Promise((resolve) => setImmediate(resolve));
  };
  await within(closed(), 10_000, 'the relay socket to close');
  t.pass('the relay socket is closed');
});

t.test('a relayed destination silent for the idle time is recorded then, and the next datagram to it starts a new flow', async (t) => {
  const server = await startNtpServer('127.0.0.1');
  t.teardown(() => server.close());
  const recorded = new EventEmitter();
  let open = 0;
  const { device, ip, port } = await associationOnLoopback(t, {
    udpIdleMs: 50, pending: () => { open++; return () => { open--; }; }, record: (flow) => recorded.emit('flow', flow),
  });
  for (const round of [1, 2]) {
    device.send(datagram('127.0.0.1', server.port, Buffer.from(`tick ${round}`)), port, ip);
    await within(once(device, 'message'), 10_000, `answer ${round}`);
    t.equal(open, 1, `round ${round}: one flow open`);
    const [flow] = (await within(once(recorded, 'flow'), 10_000, `flow ${round} after the idle time`)) as [Flow];
    t.match(flow, { kind: 'raw', scheme: 'udp', bytesUp: 6, bytesDown: 48 }, `round ${round}: recorded once silent`);
    t.equal(open, 0, 'and no longer counted as open');
  }
});

/** An association for a device on 127.0.0.1 (no SOCKS5 connection: the association alone), and that device's UDP socket. */
async function associationOnLoopback(t: Test, options: Pick<SocksUdpAssociationOptions, 'pending' | 'record' | 'udpIdleMs'>) {
  const association = await SocksUdpAssociation.open({ client: { ip: '127.0.0.1', port: 0 }, localAddress: '127.0.0.1', isSelf: () => false, rejected: () => undefined, ...options });
  t.teardown(() => association.close());
  const device = dgram.createSocket('udp4');
  device.bind(0, '127.0.0.1');
  await once(device, 'listening');
  t.teardown(() => device.close());
  return { association, device, ...association.bound };
}

/** A SOCKS5 UDP ASSOCIATE by hand (no method needed beyond "no authentication"), with the bound address. */
async function udpAssociate(proxyPort: number): Promise<{ socket: net.Socket; reply: { code: number; ip: string; port: number } }> {
  const socket = net.connect(proxyPort, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(Buffer.from([5, 1, 0]));
  socket.write(Buffer.from([5, 3, 0, 1, 0, 0, 0, 0, 0, 0]));
  let got = Buffer.alloc(0);
  while (got.length < 12) {
    const [chunk] = (await within(once(socket, 'data'), 10_000, 'the SOCKS5 replies')) as [Buffer];
    got = Buffer.concat([got, chunk]);
  }
  const reply = got.subarray(2);
  return { socket, reply: { code: reply[1]!, ip: [...reply.subarray(4, 8)].join('.'), port: reply.readUInt16BE(8) } };
}

function datagram(ip: string, port: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0, 0, 0, 1, ...ip.split('.').map(Number), port >> 8, port & 0xff]), payload]);
}

/** Whether a UDP port on 127.0.0.1 is still taken: a bind to it fails. */
function isBound(port: number): Promise<boolean> {
  const probe = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    probe.once('error', () => {
      probe.close();
      resolve(true);
    });
    probe.bind(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

t.test('many destinations at once (a call\'s ICE checks): all relayed and recorded; past the first few, counted and not kept', async (t) => {
  // More than the captured ones (16), and than the 16 relayed before 2026-12-06.
  const servers = await Promise.all(Array.from({ length: 24 }, () => startNtpServer('127.0.0.1')));
  t.teardown(() => { for (const server of servers) server.close(); });
  const flows: Flow[] = [];
  const { association, device, ip, port } = await associationOnLoopback(t, { pending: () => () => undefined, record: (flow) => flows.push(flow) });
  const answeredFrom = new Set<number>();
  const allAnswered = new Promise<void>((resolve) => device.on('message', (message: Buffer) => {
    answeredFrom.add(message.readUInt16BE(8)); // the SOCKS5 header names the server's port
    if (answeredFrom.size === servers.length) resolve();
  }));
  for (const server of servers) device.send(datagram('127.0.0.1', server.port, Buffer.from('binding request')), port, ip);
  await within(allAnswered, 10_000, `answers from all ${servers.length} servers`);
  association.close();
  t.equal(flows.length, servers.length, 'one flow per destination');
  const kept = flows.filter((flow) => !flow.tags.includes('udp:not-captured'));
  t.equal(kept.length, limits.udpCapturedDestinationsPerAssociation, 'the first ones kept');
  t.ok(flows.every((flow) => flow.bytesUp === 15 && flow.bytesDown === 48), 'every byte counted');
  t.ok(kept.every((flow) => flow.stream?.up.bytes.toString() === 'binding request'), 'the kept ones hold the bytes');
  t.ok(flows.filter((flow) => flow.tags.includes('udp:not-captured')).every((flow) => flow.stream?.up.bytes.length === 0), 'the others hold none');
});
