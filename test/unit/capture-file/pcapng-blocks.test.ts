// The pcapng encoder and the synthetic TCP framing: blocks byte for byte against hand-checked
// samples, then whole files read by tshark (Wireshark's own dissectors, an independent reader):
// checksums it verifies, streams it reassembles to the very bytes sent, IPv4 and IPv6, and TLS it
// decrypts from a Decryption Secrets Block alone.

import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import { decryptionSecretsBlock, enhancedPacketBlock, enhancedPacketBlocks, interfaceDescriptionBlock, sectionHeaderBlock, wholeBlocksEnd } from '../../../src/capture-file/pcapng-blocks.js';
import { SyntheticTcp } from '../../../src/capture-file/synthetic-tcp.js';
import { ipv6Bytes } from '../../../src/util/ip.js';
import { getOriginCa, tempDir } from '../../helpers/lab.js';

const hasTshark = spawnSync('tshark', ['--version']).status === 0;
const skipTshark = hasTshark ? false : 'tshark is not installed';

function tshark(args: string[]): string {
  const run = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`tshark ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

/** A file of one section whose packets are those of `build`, 1 ms apart. */
function writeCapture(file: string, packets: Buffer[], secrets?: Buffer): void {
  const start = Date.UTC(2026, 0, 1) * 1000;
  const blocks = [sectionHeaderBlock({ application: 'phonehome test' }), interfaceDescriptionBlock({ name: 'phonehome' })];
  if (secrets) blocks.push(decryptionSecretsBlock(secrets));
  packets.forEach((packet, i) => blocks.push(enhancedPacketBlock(packet, start + i * 1000)));
  fs.writeFileSync(file, Buffer.concat(blocks));
}

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

t.test('blocks byte for byte: section header, packet, secrets', async (t) => {
  t.equal(sectionHeaderBlock().toString('hex'), [
    '0a0d0d0a', '1c000000', // type, total length 28
    '4d3c2b1a', '0100', '0000', // byte-order magic, version 1.0
    'ffffffffffffffff', // section length unknown
    '1c000000',
  ].join(''));
  t.equal(enhancedPacketBlock(Buffer.from([0xab]), 0x100000002, 0).toString('hex'), [
    '06000000', '24000000', // type 6, 36 bytes
    '00000000', // interface 0
    '01000000', '02000000', // timestamp high, low
    '01000000', '01000000', // captured, original length
    'ab000000', // the packet, padded to 32 bits
    '24000000',
  ].join(''));
  t.equal(decryptionSecretsBlock(Buffer.from('x\n')).toString('hex'), [
    '0a000000', '18000000', // type 0x0A, 24 bytes
    '4b534c54', '02000000', // 'TLSK' (0x544c534b) little-endian, 2 bytes of secrets
    '780a0000', // "x\n" padded
    '18000000',
  ].join(''));
  t.equal(interfaceDescriptionBlock().toString('hex'), [
    '01000000', '20000000', // type 1, 32 bytes
    '6500', '0000', '00000000', // LINKTYPE_RAW, reserved, no snap length
    '09000100', '06000000', // if_tsresol = 6 (microseconds), padded
    '00000000', // end of options
    '20000000',
  ].join(''));
  const withName = sectionHeaderBlock({ application: 'ab' });
  t.equal(withName.length, 28 + 8 + 4, 'an option: code, length, value padded, then the end of options');
  t.equal(withName.readUInt32LE(4), withName.length);
});

t.test('wholeBlocksEnd: a file cut inside a block is whole up to the block before', async (t) => {
  const file = Buffer.concat([sectionHeaderBlock(), interfaceDescriptionBlock(), enhancedPacketBlock(pattern(100, 1), 1)]);
  const readAt = (data: Buffer) => (at: number, length: number) => data.subarray(at, at + length);
  t.equal(wholeBlocksEnd(readAt(file), file.length), file.length);
  const cut = file.subarray(0, file.length - 5);
  t.equal(wholeBlocksEnd(readAt(cut), cut.length), 28 + 32, 'the packet block is cut: the file is whole up to the interface');
  t.equal(wholeBlocksEnd(readAt(Buffer.from('not a capture')), 13), 0);
});

t.test('IPv6 addresses parse to their 16 bytes', async (t) => {
  t.equal(ipv6Bytes('::1').toString('hex'), '00000000000000000000000000000001');
  t.equal(ipv6Bytes('2001:db8::8:1').toString('hex'), '20010db8000000000000000000080001');
  t.equal(ipv6Bytes('::ffff:192.0.2.7').toString('hex'), '00000000000000000000ffffc0000207');
  t.equal(ipv6Bytes('fe80::1%eth0').toString('hex'), 'fe800000000000000000000000000001');
  t.throws(() => ipv6Bytes('1:2:3'));
});

t.test('an IPv4 SYN byte for byte (IPv4 checksum d93a -> 26c5, TCP with pseudo-header 19a5d -> 65a1, summed by hand)', async (t) => {
  const tcp = new SyntheticTcp({ ip: '10.0.0.1', port: 1234 }, { ip: '10.0.0.2', port: 443 }, { clientIsn: 1000, serverIsn: 5000 });
  const [syn] = tcp.open();
  t.equal(syn!.toString('hex'), [
    '4500', '0030', '0001', '4000', '4006', '26c5', '0a000001', '0a000002', // IPv4: 48 bytes, id 1, DF, TTL 64, TCP
    '04d2', '01bb', '000003e8', '00000000', '7002', 'ffff', '65a1', '0000', // ports, seq 1000, SYN, 28-byte header
    '020405b4', '01030307', // MSS 1460, NOP, window scale 7
  ].join(''));
});

const sessions: Array<{ name: string; client: { ip: string; port: number }; server: { ip: string; port: number }; family: string }> = [
  { name: 'IPv4', client: { ip: '192.168.1.20', port: 50123 }, server: { ip: '203.0.113.9', port: 443 }, family: 'ip' },
  { name: 'IPv6', client: { ip: '2001:db8::20', port: 50124 }, server: { ip: '2001:db8:1::9', port: 8443 }, family: 'ipv6' },
  { name: 'an IPv4 device to an IPv6 server (IPv4-mapped)', client: { ip: '::ffff:192.168.1.20', port: 50125 }, server: { ip: '2001:db8:1::9', port: 443 }, family: 'ipv6' },
];

for (const s of sessions) {
  t.test(`tshark reassembles a synthetic ${s.name} connection to the bytes sent, checksums valid`, { skip: skipTshark }, async (t) => {
    const file = path.join(tempDir(), 'c.pcapng');
    const up = [pattern(3000, 1), pattern(10, 2)];
    const down = [pattern(5000, 3)];
    const tcp = new SyntheticTcp(s.client, s.server);
    const packets = [...tcp.open(), ...tcp.data(true, up[0]!), ...tcp.data(false, down[0]!), ...tcp.data(true, up[1]!), ...tcp.fin(true), ...tcp.fin(false)];
    writeCapture(file, packets);
    const rows = tshark(['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=,',
      '-e', 'tcp.stream', '-e', 'tcp.len', '-e', `${s.family}.src`, '-e', 'tcp.srcport', '-e', 'tcp.checksum.status', '-e', '_ws.expert.message']).trim().split('\n');
    t.equal(rows.length, packets.length, `${rows.length} packets`);
    t.same([...new Set(rows.map((r) => r.split(',')[0]))], ['0'], 'one TCP stream');
    t.same(rows.map((r) => r.split(',')[4]).filter((status) => status !== '1'), [], 'every TCP checksum verified good (status 1; 0 is bad, 2 unverified)');
    const lengths = rows.map((r) => Number(r.split(',')[1]));
    t.same(lengths.filter((n) => n > 0), s.family === 'ip' ? [1460, 1460, 80, 1460, 1460, 1460, 620, 10] : [1440, 1440, 120, 1440, 1440, 1440, 680, 10], 'split at the MSS');
    const expert = rows.map((r) => r.split(',').slice(5).join(',')).filter((m) => /not captured|retransmission|out-of-order|ACKed unseen|Window Full|Bad/i.test(m));
    t.same(expert, [], 'no TCP analysis complaints');
    const srcRow = rows[0]!.split(',');
    t.equal(srcRow[2], s.family === 'ip' ? s.client.ip : s.client.ip.replace(/^::ffff:(.*)$/, '::ffff:$1'));
    t.equal(srcRow[3], String(s.client.port));
    // follow,tcp,raw: the client's bytes unindented, the server's indented by a tab.
    const follow = tshark(['-r', file, '-q', '-z', 'follow,tcp,raw,0']).split('\n').filter((l) => /^\t?[0-9a-f]+$/.test(l));
    const sent = Buffer.from(follow.filter((l) => !l.startsWith('\t')).join(''), 'hex');
    const received = Buffer.from(follow.filter((l) => l.startsWith('\t')).map((l) => l.trim()).join(''), 'hex');
    t.ok(sent.equals(Buffer.concat(up)), `the client's ${sent.length} bytes reassembled`);
    t.ok(received.equals(Buffer.concat(down)), `the server's ${received.length} bytes reassembled`);
  });
}

t.test('a TLS session with its keys in a Decryption Secrets Block: tshark shows the HTTP request, no key file', { skip: skipTshark }, async (t) => {
  const leaf = getOriginCa().issueLeaf('dsb.example.test');
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => res.end(`you asked ${req.url}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  // A relay between the client and the server keeps the ciphertext of both directions, in order.
  const chunks: Array<{ up: boolean; data: Buffer }> = [];
  const relay = net.createServer((socket) => {
    const upstream = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    socket.on('data', (data) => { chunks.push({ up: true, data }); upstream.write(data); });
    upstream.on('data', (data) => { chunks.push({ up: false, data }); socket.write(data); });
    socket.on('end', () => upstream.end());
    upstream.on('end', () => socket.end());
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  t.teardown(() => relay.close());
  const keys: Buffer[] = [];
  const client = tls.connect({ port: (relay.address() as net.AddressInfo).port, host: '127.0.0.1', servername: 'dsb.example.test', ca: getOriginCa().certPem, ALPNProtocols: ['http/1.1'] });
  client.on('keylog', (line) => keys.push(line));
  await once(client, 'secureConnect');
  const body: Buffer[] = [];
  client.on('data', (d: Buffer) => body.push(d));
  client.write('GET /secret-path?imei=1 HTTP/1.1\r\nHost: dsb.example.test\r\nConnection: close\r\n\r\n');
  await once(client, 'close');
  t.match(Buffer.concat(body).toString(), /you asked \/secret-path/);

  const tcp = new SyntheticTcp({ ip: '10.1.2.3', port: 40000 }, { ip: '10.9.8.7', port: 443 });
  const packets = [...tcp.open(), ...chunks.flatMap((c) => tcp.data(c.up, c.data)), ...tcp.fin(true), ...tcp.fin(false)];
  const dir = tempDir();
  const withKeys = path.join(dir, 'keys.pcapng');
  writeCapture(withKeys, packets, Buffer.concat(keys));
  const requests = tshark(['-r', withKeys, '-Y', 'http.request', '-T', 'fields', '-e', 'http.request.uri', '-e', 'tls.handshake.extensions_server_name']).trim();
  t.equal(requests, '/secret-path?imei=1', 'the request, decrypted from the secrets block alone');
  const responses = tshark(['-r', withKeys, '-Y', 'http.response', '-T', 'fields', '-e', 'http.response.code']).trim();
  t.equal(responses, '200');
  const withoutKeys = path.join(dir, 'nokeys.pcapng');
  writeCapture(withoutKeys, packets);
  t.equal(tshark(['-r', withoutKeys, '-Y', 'http']).trim(), '', 'without the block, nothing is decrypted');
  t.match(tshark(['-r', withoutKeys, '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tls.handshake.extensions_server_name']).trim(), 'dsb.example.test', 'the ClientHello is there either way');
});

t.test('a run of packet blocks is the blocks one by one, padding zeroed', async (t) => {
  const packets = [Buffer.from([1]), Buffer.from([1, 2, 3, 4]), Buffer.from([9, 9, 9, 9, 9, 9, 9])];
  t.ok(enhancedPacketBlocks(packets, 1000).equals(Buffer.concat(packets.map((p, i) => enhancedPacketBlock(p, 1000 + i)))));
});

t.test('a file that is not our pcapng is refused, never cut or appended to', async (t) => {
  const { PcapngFile } = await import('../../../src/capture-file/pcapng-file.js');
  const file = path.join(tempDir(), 'notes.txt');
  fs.writeFileSync(file, 'my notes, not a capture\n');
  t.throws(() => new PcapngFile(file, { failed: () => undefined, recovered: () => undefined }, { application: 't' }), /is not a pcapng file phonehome wrote/);
  t.equal(fs.readFileSync(file, 'utf8'), 'my notes, not a capture\n', 'untouched');
  const empty = path.join(tempDir(), 'empty.pcapng');
  fs.writeFileSync(empty, '');
  new PcapngFile(empty, { failed: () => undefined, recovered: () => undefined }, { application: 't' }).close();
  t.equal(fs.readFileSync(empty).readUInt32LE(0), 0x0a0d0d0a, 'an empty file is begun');
});
