// The session assembler over frame lines as tshark prints them (tshark-fields.ts), written here
// field by field: who the client is, what is kept and counted, when a session is handed on, and
// the tags for what the capture lacks. Runs without tshark; the real thing is in
// test/e2e/capture-file-read.test.ts.

import t from 'tap';
import type { RecordedSession } from '../../../src/capture-file/recorded-session.js';
import { SessionAssembler } from '../../../src/capture-file/session-assembler.js';
import { frameFields, occurrenceSeparator, parseFrameLine } from '../../../src/capture-file/tshark-fields.js';

type Fields = Partial<Record<(typeof frameFields)[number], string | string[]>>;

const phone = { ip: '10.0.0.2', port: 50000 };
const cloud = { ip: '203.0.113.7', port: 443 };
const SYN = '0x0002';
const SYN_ACK = '0x0012';
const ACK = '0x0010';
const PSH_ACK = '0x0018';
const FIN_ACK = '0x0011';
const RST = '0x0004';

function line(fields: Fields): string {
  return frameFields.map((name) => {
    const value = fields[name];
    return Array.isArray(value) ? value.join(occurrenceSeparator) : value ?? '';
  }).join('\t');
}

/** One TCP frame of stream 0 from `from` to `to`. */
function tcp(from: typeof phone, to: typeof phone, flags: string, payload = '', extra: Fields = {}): string {
  return line({
    'frame.time_epoch': '1796232194.5', 'tcp.stream': '0', 'ip.src': from.ip, 'ip.dst': to.ip, 'tcp.srcport': String(from.port), 'tcp.dstport': String(to.port),
    'tcp.flags': flags, 'tcp.len': String(payload.length), ...(payload ? { 'tcp.payload': Buffer.from(payload).toString('hex') } : {}), ...extra,
  });
}

function assemble(lines: string[], keep = 1_000_000): { sessions: RecordedSession[]; assembler: SessionAssembler } {
  const sessions: RecordedSession[] = [];
  const assembler = new SessionAssembler({ keepBytesPerDirection: keep, onSession: (s) => sessions.push(s) });
  for (const text of lines) assembler.frame(parseFrameLine(text), '2026-12-02T17:00:00.000Z');
  assembler.finish();
  return { sessions, assembler };
}

const plainExchange = [
  tcp(phone, cloud, SYN), tcp(cloud, phone, SYN_ACK), tcp(phone, cloud, ACK),
  tcp(phone, cloud, PSH_ACK, 'GET / HTTP/1.1\r\n'), tcp(phone, cloud, PSH_ACK, 'host: a\r\n\r\n'),
  tcp(cloud, phone, PSH_ACK, 'HTTP/1.1 204 No Content\r\n\r\n'),
  tcp(phone, cloud, FIN_ACK), tcp(cloud, phone, FIN_ACK), tcp(phone, cloud, ACK),
];

t.test('a plain TCP session: client by its SYN, bytes in order, one chunk per run of one side, handed on at the second FIN', async (t) => {
  const { sessions } = assemble(plainExchange);
  t.equal(sessions.length, 1, 'one session: the last ACK after both FINs opens no other');
  const [session] = sessions;
  t.same(session!.client, phone);
  t.same(session!.server, cloud);
  t.same(session!.chunks.map((c) => [c.fromClient, c.data.toString()]), [[true, 'GET / HTTP/1.1\r\nhost: a\r\n\r\n'], [false, 'HTTP/1.1 204 No Content\r\n\r\n']]);
  t.equal(session!.bytesUp, 27);
  t.equal(session!.bytesDown, 27);
  t.same(session!.tags, []);
  t.equal(session!.tls, undefined);
});

t.test('the capture began mid-connection: the side on the higher port is the client, and it is said', async (t) => {
  const { sessions } = assemble([tcp(cloud, phone, PSH_ACK, 'HTTP/1.1 200 OK\r\n'), tcp(phone, cloud, ACK)]);
  t.same(sessions[0]!.client, phone, 'not the side that spoke first');
  t.same([...sessions[0]!.tags].sort(), ['pcap:no-handshake', 'pcap:unfinished']);
});

t.test('a retransmission is neither kept twice nor counted twice; a lost segment is tagged', async (t) => {
  const { sessions } = assemble([
    tcp(phone, cloud, SYN), tcp(cloud, phone, SYN_ACK),
    tcp(phone, cloud, PSH_ACK, 'abc'), tcp(phone, cloud, PSH_ACK, 'abc', { 'tcp.analysis.retransmission': '1' }),
    tcp(phone, cloud, PSH_ACK, 'xyz', { 'tcp.analysis.lost_segment': '1' }),
    tcp(phone, cloud, RST),
  ]);
  t.equal(sent(sessions[0]!, true), 'abcxyz');
  t.equal(sessions[0]!.bytesUp, 6);
  t.same(sessions[0]!.tags, ['pcap:gap'], 'a RST ends the session too, not as unfinished');
});

t.test('the budget per direction keeps the first bytes and counts the rest', async (t) => {
  const { sessions } = assemble(plainExchange, 10);
  t.equal(sent(sessions[0]!, true), 'GET / HTTP');
  t.equal(sent(sessions[0]!, false), 'HTTP/1.1 2');
  t.equal(sessions[0]!.bytesUp, 27, 'the wire bytes are all counted');
  t.same(sessions[0]!.tags, ['pcap:truncated']);
});

t.test('TLS: facts from the right side and message, decrypted records as chunks, ciphertext never', async (t) => {
  const tlsFrame = (from: typeof phone, to: typeof phone, payload: string, fields: Fields) => tcp(from, to, PSH_ACK, payload, { 'tls.record.content_type': '22', ...fields });
  const opened = assemble([
    tcp(phone, cloud, SYN), tcp(cloud, phone, SYN_ACK),
    // The ClientHello offers ALPN too: only the server's choice counts.
    tlsFrame(phone, cloud, 'hello', { 'tls.handshake.type': '1', 'tls.handshake.extensions_server_name': 'api.example.test', 'tls.handshake.extensions_alpn_str': ['h2', 'http/1.1'], 'tls.handshake.version': '0x0303', 'tls.handshake.extensions.supported_version': ['0x0304', '0x0303'], 'tls.handshake.ciphersuite': ['0x1301', '0x1302'] }),
    tlsFrame(cloud, phone, 'server', { 'tls.handshake.type': ['2', '8'], 'tls.handshake.version': '0x0303', 'tls.handshake.extensions.supported_version': '0x0304', 'tls.handshake.ciphersuite': '0x1302', 'tls.handshake.extensions_alpn_str': 'h2' }),
    tcp(phone, cloud, PSH_ACK, 'ciphertext', { 'tls.record.content_type': ['23', '23'], 'data.data': [Buffer.from('PRI * ').toString('hex'), Buffer.from('HTTP/2.0').toString('hex')] }),
    tcp(cloud, phone, PSH_ACK, 'ciphertext2', { 'tls.record.opaque_type': '23' }), // a record tshark could not open
    tcp(phone, cloud, FIN_ACK), tcp(cloud, phone, FIN_ACK),
  ]).sessions[0]!;
  t.same(opened.tls, { sni: 'api.example.test', alpn: 'h2', version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', decrypted: true });
  t.same(opened.chunks.map((c) => [c.fromClient, c.data.toString()]), [[true, 'PRI * HTTP/2.0']], 'two records of one frame, in order; no TCP payload of a TLS session');
  t.equal(opened.bytesUp, 5 + 10, 'ciphertext counted on the wire');

  const closed = assemble([
    tcp(phone, cloud, SYN),
    tlsFrame(phone, cloud, 'hello', { 'tls.handshake.type': '1', 'tls.handshake.extensions_server_name': 'pinned.example.test' }),
    tlsFrame(cloud, phone, 'server', { 'tls.handshake.type': '2', 'tls.handshake.version': '0x0303', 'tls.handshake.ciphersuite': '0xc02f' }),
    tcp(phone, cloud, PSH_ACK, 'secret', { 'tls.record.content_type': '23' }),
  ]).sessions[0]!;
  t.same(closed.tls, { sni: 'pinned.example.test', version: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', decrypted: false });
  t.same(closed.chunks, [], 'an unopened session hands on no bytes');
  t.same([...closed.tags].sort(), ['pcap:unfinished', 'tls:no-keys']);
  const unknownSuite = assemble([tlsFrame(cloud, phone, 'server', { 'tls.handshake.type': '2', 'tls.handshake.version': '0x0303', 'tls.handshake.ciphersuite': '0x00ff' })]).sessions[0]!;
  t.equal(unknownSuite.tls?.cipher, '0x00ff', 'a suite without a name here keeps its number');
});

function sent(session: RecordedSession, fromClient: boolean): string {
  return Buffer.concat(session.chunks.filter((c) => c.fromClient === fromClient).map((c) => c.data)).toString();
}
