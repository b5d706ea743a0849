// SOCKS5 and SOCKS4/4a parsing as tables: every message whole, short by one byte, and hostile.

import t from 'tap';
import { parseSocks4Request, parseSocks5Datagram, parseSocks5Greeting, parseSocks5Request, parseUserPass, socks5Datagram, socks5Reply, socks5Response } from '../../../src/proxy/modes/socks-protocol.js';

const b = (...bytes: Array<number | string | Buffer>): Buffer => Buffer.concat(bytes.map((x) => (typeof x === 'number' ? Buffer.from([x]) : typeof x === 'string' ? Buffer.from(x, 'latin1') : x)));
const port = (n: number): Buffer => { const p = Buffer.alloc(2); p.writeUInt16BE(n); return p; };

t.test('greetings', async (t) => {
  t.match(parseSocks5Greeting(b(5, 2, 0, 2)), { kind: 'ok', consumed: 4, methods: [0, 2] });
  t.match(parseSocks5Greeting(b(5, 2, 0)), { kind: 'partial' });
  t.match(parseSocks5Greeting(b(5)), { kind: 'partial' });
  t.match(parseSocks5Greeting(b(5, 0)), { kind: 'invalid' }, 'no method offered');
  t.match(parseSocks5Greeting(b(4, 1, 0)), { kind: 'invalid' }, 'not version 5');
});

t.test('username/password (RFC 1929)', async (t) => {
  t.match(parseUserPass(b(1, 3, 'lab', 4, 'pass')), { kind: 'ok', user: 'lab', pass: 'pass', consumed: 10 });
  t.match(parseUserPass(b(1, 3, 'lab', 4, 'pas')), { kind: 'partial' });
  t.match(parseUserPass(b(1, 3, 'la')), { kind: 'partial' });
  t.match(parseUserPass(b(1, 0, 0)), { kind: 'ok', user: '', pass: '' });
  t.match(parseUserPass(b(2, 3, 'lab', 0)), { kind: 'invalid' });
});

t.test('requests: IPv4, IPv6, domain; short, unknown and hostile', async (t) => {
  t.match(parseSocks5Request(b(5, 1, 0, 1, 42, 62, 48, 10, port(443))), { kind: 'ok', command: 1, address: { type: 'ipv4', host: '42.62.48.10' }, port: 443, consumed: 10 });
  const v6 = Buffer.alloc(16);
  v6[15] = 1;
  t.match(parseSocks5Request(b(5, 1, 0, 4, v6, port(8443))), { kind: 'ok', address: { type: 'ipv6', host: '0:0:0:0:0:0:0:1' }, port: 8443, consumed: 22 });
  t.match(parseSocks5Request(b(5, 1, 0, 3, 15, 'api.example.com', port(443))), { kind: 'ok', address: { type: 'domain', host: 'api.example.com' }, port: 443 });
  t.match(parseSocks5Request(b(5, 2, 0, 3, 1, 'x', port(1))), { kind: 'ok', command: 2 }, 'BIND is parsed; the mode refuses it');
  t.match(parseSocks5Request(b(5, 1, 0, 3, 255)), { kind: 'partial' }, 'a 255-byte name announced: wait for it (bounded by the mode)');
  t.match(parseSocks5Request(b(5, 1, 0, 3, 15, 'api.example.com', 1)), { kind: 'partial' }, 'one port byte short');
  t.match(parseSocks5Request(b(5, 1, 0, 1, 1, 2, 3, 4, 0)), { kind: 'partial' });
  t.match(parseSocks5Request(b(5, 1, 0, 3, 0, port(80))), { kind: 'invalid', reply: socks5Reply.generalFailure }, 'empty domain');
  t.match(parseSocks5Request(b(5, 1, 0, 9, 0, 0, 0)), { kind: 'invalid', reply: socks5Reply.addressTypeNotSupported });
  t.match(parseSocks5Request(b(4, 1, 0, 1, 1, 2, 3, 4, 0, 80)), { kind: 'invalid', reply: socks5Reply.generalFailure });
  t.match(parseSocks5Request(b(5, 1, 0, 1, 1, 2, 3, 4, port(0))), { kind: 'ok', port: 0 }, 'port 0 is parsed; target validation refuses it');
});

t.test('SOCKS4 and SOCKS4a', async (t) => {
  t.match(parseSocks4Request(b(4, 1, port(443), 42, 62, 48, 10, 'me', 0)), { kind: 'ok', command: 1, address: { type: 'ipv4', host: '42.62.48.10' }, port: 443, user: 'me', consumed: 11 });
  t.match(parseSocks4Request(b(4, 1, port(443), 0, 0, 0, 1, 0, 'api.example.com', 0)), { kind: 'ok', address: { type: 'domain', host: 'api.example.com' }, consumed: 25 });
  t.match(parseSocks4Request(b(4, 1, port(443), 0, 0, 0, 1, 0, 'api.exa')), { kind: 'partial' });
  t.match(parseSocks4Request(b(4, 1, port(443), 1, 2, 3, 4, 'no-terminator')), { kind: 'partial' });
  t.match(parseSocks4Request(b(4, 1, port(443), 1, 2, 3, 4, 'u'.repeat(300))), { kind: 'invalid' }, 'an endless user id');
  t.match(parseSocks4Request(b(4, 1, port(443), 0, 0, 0, 1, 0, 'h'.repeat(300))), { kind: 'invalid' }, 'an endless host name');
  t.match(parseSocks4Request(b(4, 1, port(443), 0, 0, 0, 1, 0, 0)), { kind: 'invalid' }, 'an empty SOCKS4a host');
});

t.test('UDP datagrams (RFC 1928 §7): read whole or not at all, written with the source address', async (t) => {
  const dns = Buffer.from('question');
  const v4 = Buffer.concat([Buffer.from([0, 0, 0, 1, 9, 9, 9, 9, 0, 53]), dns]);
  t.same(parseSocks5Datagram(v4), { kind: 'ok', fragment: 0, address: { type: 'ipv4', host: '9.9.9.9' }, port: 53, payload: dns });
  const v6 = Buffer.concat([Buffer.from([0, 0, 0, 4, 0x26, 0x20, 0, 0xfe, ...Array(11).fill(0), 0xfe, 0, 53]), dns]);
  t.match(parseSocks5Datagram(v6), { kind: 'ok', address: { type: 'ipv6', host: '2620:fe:0:0:0:0:0:fe' }, port: 53 });
  const named = Buffer.concat([Buffer.from([0, 0, 0, 3, 7]), Buffer.from('dns.lan'), Buffer.from([0, 53]), dns]);
  t.match(parseSocks5Datagram(named), { kind: 'ok', address: { type: 'domain', host: 'dns.lan' }, port: 53 });
  t.match(parseSocks5Datagram(Buffer.concat([Buffer.from([0, 0, 2]), v4.subarray(3)])), { kind: 'ok', fragment: 2 }, 'a fragment number is read (the association drops fragments)');
  const bad: Array<[string, Buffer]> = [
    ['too short for a header', Buffer.from([0, 0, 0])],
    ['reserved bytes set', Buffer.concat([Buffer.from([0, 1]), v4.subarray(2)])],
    ['an address cut short', v4.subarray(0, 8)],
    ['an unknown address type', Buffer.from([0, 0, 0, 9, 1, 2, 3, 4, 0, 53])],
    ['an empty domain', Buffer.from([0, 0, 0, 3, 0, 0, 53])],
    ['a SOCKS5 request, not a datagram', Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0, 80])],
  ];
  for (const [what, bytes] of bad) t.equal(parseSocks5Datagram(bytes).kind, 'invalid', what);
  t.same(socks5Datagram('9.9.9.9', 53, dns), v4, 'written as it is read');
  t.same(socks5Datagram('2620:fe::fe', 53, dns), v6, 'IPv6 with :: in it');
  t.same(parseSocks5Datagram(socks5Datagram('::ffff:10.0.0.1', 5353, dns)), { kind: 'ok', fragment: 0, address: { type: 'ipv6', host: '0:0:0:0:0:ffff:a00:1' }, port: 5353, payload: dns }, 'an IPv4 tail');
  t.same(socks5Response(0, { ip: '127.0.0.1', port: 40000 }), Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0x9c, 0x40]), 'UDP ASSOCIATE\'s reply names where to send');
  t.same(socks5Response(socks5Reply.commandNotSupported), Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]), 'others name 0.0.0.0:0');
});
