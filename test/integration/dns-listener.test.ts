// The DNS listener on 127.0.0.1 between real clients (Node's resolver, raw UDP/TCP sockets, dig
// when installed) and a real upstream server (test/helpers/dns-server.ts).

import t from 'tap';
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import { execFile, spawnSync } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import dnsPacket, { type Answer } from 'dns-packet';
import { DnsListener, type DnsListenerOptions } from '../../src/proxy/dns/dns-listener.js';
import { DnsNames } from '../../src/proxy/dns/dns-names.js';
import type { Flow } from '../../src/model/flow.js';
import { startTestDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { within } from '../helpers/lab.js';

const waitMs = 10_000;

interface Harness {
  readonly listener: DnsListener;
  readonly names: DnsNames;
  readonly flows: Flow[];
  readonly logs: string[];
  /** The first recorded flow (past or future) that matches. */
  flow(match: (flow: Flow) => boolean, what: string): Promise<Flow>;
}

async function startListener(t: { teardown(fn: () => unknown): void }, upstream: TestDnsServer | { port: number }, extra: Partial<DnsListenerOptions> = {}): Promise<Harness> {
  const names = new DnsNames();
  const flows: Flow[] = [];
  const logs: string[] = [];
  const recorded = new EventEmitter();
  const listener = await DnsListener.start({
    host: '127.0.0.1', port: 0, upstream: { ip: '127.0.0.1', port: upstream.port },
    record: (flow) => {
      flows.push(flow);
      // As the capture session does: the name map learns from the flows.
      names.learnFrom(flow);
      recorded.emit('flow', flow);
    },
    log: (level, message) => logs.push(`${level} ${message}`),
    ...extra,
  });
  t.teardown(() => listener.stop());
  return {
    listener, names, flows, logs,
    flow: (match, what) => {
      const found = flows.find(match);
      if (found) return Promise.resolve(found);
      return within(new Promise<Flow>((resolve) => {
        const check = (flow: Flow): void => {
          if (!match(flow)) return;
          recorded.off('flow', check);
          resolve(flow);
        };
        recorded.on('flow', check);
      }), waitMs, what);
    },
  };
}

function query(name: string, type: string, options: { id?: number; edns?: number; padding?: number } = {}): Buffer {
  const additionals: Answer[] = options.edns ? [{ name: '.', type: 'OPT', udpPayloadSize: options.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: options.padding ? [{ code: 12, length: options.padding } as never] : [] }] : [];
  return dnsPacket.encode({ id: options.id ?? 0x1234, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as 'A', class: 'IN' }], additionals });
}

/** One datagram to `port` and the first one back, from a socket of its own. */
async function udpExchange(port: number, bytes: Buffer): Promise<{ answer: Buffer; localPort: number }> {
  const socket = dgram.createSocket('udp4');
  try {
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const answered = once(socket, 'message') as Promise<[Buffer]>;
    socket.send(bytes, port, '127.0.0.1');
    const [answer] = await within(answered, waitMs, 'a UDP answer');
    return { answer, localPort: socket.address().port };
  } finally {
    socket.close();
  }
}

/** Sends `messages` on one TCP connection (length-prefixed, all at once) and collects as many answers. */
async function tcpExchange(port: number, messages: Buffer[]): Promise<Buffer[]> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const answers: Buffer[] = [];
  let pending = Buffer.alloc(0);
  const all = new Promise<Buffer[]>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        answers.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + answers.at(-1)!.length);
      }
      if (answers.length === messages.length) resolve(answers);
    });
  });
  socket.write(Buffer.concat(messages.map((message) => Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message]))));
  try {
    return await within(all, waitMs, 'the TCP answers');
  } finally {
    socket.destroy();
  }
}

function resolverFor(listener: DnsListener): dns.promises.Resolver {
  const resolver = new dns.promises.Resolver({ timeout: 3_000, tries: 1 });
  resolver.setServers([`127.0.0.1:${listener.port}`]);
  return resolver;
}

t.test('DNS through the listener', async (t) => {
  const upstream = await startTestDnsServer();
  t.teardown(() => upstream.close());

  t.test('Node\'s resolver gets A, AAAA, CNAME chains and NXDOMAIN; each is a flow; the names map is filled', async (t) => {
    const h = await startListener(t, upstream);
    const resolver = resolverFor(h.listener);
    t.same(await resolver.resolve4('cloud.example.test'), ['127.0.0.1']);
    t.same(await resolver.resolve6('cloud.example.test'), ['::1']);
    t.same(await resolver.resolve4('extra.example.test'), ['127.0.0.3']);
    t.same(await resolver.resolve4('www.example.test'), ['127.0.0.1']);
    await t.rejects(resolver.resolve4('nope.example.test'), { code: 'ENOTFOUND' });

    const a = await h.flow((f) => f.dns?.name === 'cloud.example.test' && f.dns.type === 'A', 'the A flow');
    t.match(a, { kind: 'dns', scheme: 'dns', client: { ip: '127.0.0.1' }, target: { host: '127.0.0.1', port: h.listener.port }, destination: { ip: '127.0.0.1', port: upstream.port } });
    t.same(a.dns, { name: 'cloud.example.test', type: 'A', rcode: 'NOERROR', answers: [{ name: 'cloud.example.test', type: 'A', ttl: 300, data: '127.0.0.1' }], upstream: `127.0.0.1:${upstream.port}` });
    t.notOk('mode' in a, 'no mode without a WireGuard peer');
    t.match(a.id, /^fl-\d+$/);
    t.ok(a.bytesUp > 12 && a.bytesDown > a.bytesUp, `bytes ${a.bytesUp} up, ${a.bytesDown} down`);
    t.ok(Date.parse(a.endedAt) >= Date.parse(a.startedAt) && a.durationMs >= 0);
    t.same(a.tags, []);
    const nx = await h.flow((f) => f.dns?.name === 'nope.example.test', 'the NXDOMAIN flow');
    t.equal(nx.dns?.rcode, 'NXDOMAIN');
    t.same(nx.dns?.answers, []);

    t.equal(h.names.nameOf('127.0.0.3'), 'extra.example.test');
    t.equal(h.names.nameOf('::1'), 'cloud.example.test');
    t.equal(h.names.nameOf('127.0.0.1'), 'www.example.test', 'the name asked for, most recent');
    t.equal(h.names.canonicalOf('127.0.0.1'), 'cloud.example.test');
    t.equal(h.names.nameOf('127.0.0.99'), undefined);
    t.match(h.listener.stats(), { queries: 5, names: 4, stripped: 1, failures: 0, malformed: 0 }, 'extra.example.test had an HTTPS record in its additional section');
  });

  t.test('an answer with nothing to strip is byte-identical to the upstream\'s, over UDP and TCP; the upstream sees the device\'s bytes', async (t) => {
    const h = await startListener(t, upstream);
    for (const [name, type] of [['cloud.example.test', 'A'], ['Cloud.Example.TEST', 'AAAA'], ['www.example.test', 'A'], ['cloud.example.test', 'TXT'], ['nope.example.test', 'A']] as const) {
      const bytes = query(name, type, { id: 0xbeef, edns: 1232 });
      const direct = await udpExchange(upstream.port, bytes);
      const through = await udpExchange(h.listener.port, bytes);
      t.ok(through.answer.equals(direct.answer), `${name} ${type}: the same ${direct.answer.length} bytes over UDP`);
      t.ok(upstream.received.at(-1)!.bytes.equals(bytes), `${name} ${type}: the upstream got the device's bytes`);
      const [directTcp] = await tcpExchange(upstream.port, [bytes]);
      const [throughTcp] = await tcpExchange(h.listener.port, [bytes]);
      t.ok(throughTcp!.equals(directTcp!), `${name} ${type}: the same bytes over TCP`);
      t.equal(upstream.received.at(-1)!.transport, 'tcp', 'TCP went upstream over TCP');
    }
    const mixed = await h.flow((f) => f.dns?.type === 'AAAA', 'the mixed-case flow');
    t.equal(mixed.dns?.name, 'cloud.example.test', 'recorded lower-case');
    t.equal(mixed.client.port > 0, true);
  });

  t.test('HTTPS records are stripped and counted; the device gets NOERROR without them', async (t) => {
    const h = await startListener(t, upstream);
    const bytes = query('cloud.example.test', 'UNKNOWN_65', { id: 0x0065, edns: 1232 });
    const direct = dnsPacket.decode((await udpExchange(upstream.port, bytes)).answer);
    t.equal(direct.answers?.length, 1, 'the upstream does send an HTTPS record');
    const { answer, localPort } = await udpExchange(h.listener.port, bytes);
    const through = dnsPacket.decode(answer);
    t.equal(through.id, 0x0065);
    t.equal((through as { rcode?: string }).rcode, 'NOERROR');
    t.same(through.answers, []);
    t.same(through.questions, direct.questions);
    t.notOk(answer.includes(Buffer.from('fake-ech-config-list')), 'no ECH key reaches the device');
    const [overTcp] = await tcpExchange(h.listener.port, [bytes]);
    t.same(dnsPacket.decode(overTcp!).answers, [], 'stripped over TCP too');

    const flow = await h.flow((f) => f.dns?.type === 'HTTPS' && f.client.port === localPort, 'the HTTPS flow');
    t.same(flow.dns, { name: 'cloud.example.test', type: 'HTTPS', rcode: 'NOERROR', answers: [], stripped: 1, upstream: `127.0.0.1:${upstream.port}` });
    t.same(flow.tags, ['dns:stripped-https']);
    t.equal(flow.bytesDown, answer.length, 'bytesDown is what the device got');

    // An A answer with an HTTPS record in its additional section keeps its A record.
    const extra = dnsPacket.decode((await udpExchange(h.listener.port, query('extra.example.test', 'A', { edns: 1232 }))).answer);
    t.same(extra.answers?.map((r) => r.type === 'A' && r.data), ['127.0.0.3']);
    t.same(extra.additionals?.map((r) => r.type), ['OPT'], 'the HTTPS record left the additional section; EDNS stayed');
    t.equal(h.listener.stats().stripped, 3);
  });

  t.test('TCP: pipelined queries on one connection, and a query larger than any UDP datagram', async (t) => {
    const h = await startListener(t, upstream);
    const answers = await tcpExchange(h.listener.port, [query('cloud.example.test', 'A', { id: 1 }), query('cloud.example.test', 'AAAA', { id: 2 }), query('nope.example.test', 'A', { id: 3 })]);
    t.same(answers.map((a) => dnsPacket.decode(a).id).sort(), [1, 2, 3]);
    const big = query('cloud.example.test', 'A', { id: 0x0b16, edns: 4096, padding: 6_000 });
    t.ok(big.length > 4_096, `a ${big.length}-byte query`);
    const [bigAnswer] = await tcpExchange(h.listener.port, [big]);
    t.same(dnsPacket.decode(bigAnswer!).answers?.map((r) => (r as { data?: unknown }).data), ['127.0.0.1']);
    t.ok(upstream.received.some((r) => r.transport === 'tcp' && r.bytes.equals(big)), 'the upstream got the big query as sent');
    const flow = await h.flow((f) => f.bytesUp === big.length, 'the big query\'s flow');
    t.same(flow.tags, ['dns:tcp']);
    t.equal(h.listener.stats().malformed, 0);
  });

  t.test('a truncated UDP answer makes Node\'s resolver ask again over TCP, through the listener', async (t) => {
    const h = await startListener(t, upstream);
    const txt = await resolverFor(h.listener).resolveTxt('big.example.test');
    t.equal(txt.length, 1);
    t.ok(txt[0]!.join('').length > 2_800, 'the whole TXT record arrived');
    const udp = await h.flow((f) => f.dns?.name === 'big.example.test' && !f.tags.includes('dns:tcp'), 'the UDP try');
    t.ok(udp.tags.includes('dns:truncated'));
    const tcp = await h.flow((f) => f.dns?.name === 'big.example.test' && f.tags.includes('dns:tcp'), 'the TCP try');
    t.equal(tcp.dns?.answers.length, 1);
    t.ok(tcp.bytesDown > 2_800);
  });

  t.test('malformed messages are counted, logged once per client, and do not stop the listener', async (t) => {
    const h = await startListener(t, upstream);
    const socket = dgram.createSocket('udp4');
    t.teardown(() => socket.close());
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    // Too short for a header: dropped.
    socket.send(Buffer.from('hello'), h.listener.port, '127.0.0.1');
    await h.flow((f) => f.tags.includes('dns:dropped'), 'the dropped message');
    // A header, then a question that does not parse: forwarded as it is; the upstream's FORMERR comes back.
    const garbage = Buffer.concat([Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]), Buffer.from([0x3f, 0x41, 0x42])]);
    const answered = once(socket, 'message') as Promise<[Buffer]>;
    socket.send(garbage, h.listener.port, '127.0.0.1');
    const [formerr] = await within(answered, waitMs, 'the FORMERR');
    t.equal(formerr.readUInt16BE(0), 0xabcd, 'the device\'s id');
    t.equal(formerr.readUInt16BE(2) & 0xf, 1, 'FORMERR, as the upstream said');
    t.ok(upstream.received.some((r) => r.bytes.equals(garbage)), 'forwarded raw');
    const flow = await h.flow((f) => f.tags.includes('dns:malformed') && f.bytesUp === garbage.length, 'the malformed flow');
    t.equal(flow.dns?.name, '');
    t.equal(flow.dns?.rcode, 'FORMERR');
    // Oversized datagram: not a query.
    socket.send(Buffer.alloc(5_000, 1), h.listener.port, '127.0.0.1');
    // Still answering.
    const { answer } = await udpExchange(h.listener.port, query('cloud.example.test', 'A'));
    t.equal(dnsPacket.decode(answer).answers?.length, 1);
    await within((async () => { while (h.listener.stats().malformed < 3) await new Promise<void>((resolve) => setImmediate(resolve)); })(), waitMs, 'three malformed counted');
    t.match(h.listener.stats(), { malformed: 3 });
    t.equal(h.logs.filter((line) => line.includes('malformed') || line.includes('not DNS')).length, 1, 'one warning for this client\'s malformed messages');
  });

  t.test('an upstream that does not answer: SERVFAIL after the deadline, with the id and question', async (t) => {
    const h = await startListener(t, upstream, { timeoutMs: 300 });
    const { answer } = await udpExchange(h.listener.port, query('slow.example.test', 'A', { id: 0x5107 }));
    const decoded = dnsPacket.decode(answer);
    t.equal(decoded.id, 0x5107);
    t.equal((decoded as { rcode?: string }).rcode, 'SERVFAIL');
    t.ok(decoded.flag_rd && decoded.flag_ra);
    t.same(decoded.questions?.map((q) => q.name), ['slow.example.test']);
    const flow = await h.flow((f) => f.dns?.name === 'slow.example.test', 'the timeout flow');
    t.same(flow.tags, ['dns:timeout']);
    t.equal(flow.dns?.rcode, 'SERVFAIL');
    t.match(flow.error, /did not answer within 300 ms/);
    t.equal(h.listener.stats().failures, 1);
    upstream.release();
  });

  t.test('an upstream that refuses (nothing on its port): SERVFAIL at once', async (t) => {
    const closed = dgram.createSocket('udp4');
    closed.bind(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadPort = closed.address().port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const h = await startListener(t, { port: deadPort }, { timeoutMs: 60_000 });
    const { answer } = await udpExchange(h.listener.port, query('cloud.example.test', 'A'));
    t.equal((dnsPacket.decode(answer) as { rcode?: string }).rcode, 'SERVFAIL');
    const flow = await h.flow(() => true, 'the flow');
    t.same(flow.tags, ['dns:upstream-error']);
    t.match(flow.error, /ECONNREFUSED/);
  });

  t.test('queries in flight are bounded; stop records what was still waiting', async (t) => {
    const held = await startTestDnsServer();
    t.teardown(() => held.close());
    const h = await startListener(t, held, { timeoutMs: 60_000, maxInFlight: 1 });
    const socket = dgram.createSocket('udp4');
    t.teardown(() => socket.close());
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    socket.send(query('slow.example.test', 'A', { id: 1 }), h.listener.port, '127.0.0.1');
    await within(held.heldQuery(), waitMs, 'the held query');
    socket.send(query('cloud.example.test', 'A', { id: 2 }), h.listener.port, '127.0.0.1');
    const busy = await h.flow((f) => f.tags.includes('dns:busy'), 'the dropped query');
    t.equal(busy.dns?.name, 'cloud.example.test');
    t.notOk('rcode' in (busy.dns ?? {}), 'no answer came');
    await h.listener.stop();
    const stopped = await h.flow((f) => f.tags.includes('dns:stopped'), 'the query cut by stop');
    t.equal(stopped.dns?.name, 'slow.example.test');
    t.equal(h.listener.stats().failures, 2);
    held.release();
  });

  t.test('a WireGuard peer\'s queries are wireguard flows with its name; refused clients get nothing', async (t) => {
    const h = await startListener(t, upstream, { peerOf: (ip) => (ip === '127.0.0.1' ? 'phone' : undefined) });
    await resolverFor(h.listener).resolve4('cloud.example.test');
    const flow = await h.flow(() => true, 'the flow');
    t.equal(flow.mode, 'wireguard');
    t.equal(flow.client.name, 'phone');

    const refusing = await startListener(t, upstream, { isAllowed: () => false });
    const socket = dgram.createSocket('udp4');
    t.teardown(() => socket.close());
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    let answered = false;
    socket.on('message', () => (answered = true));
    socket.send(query('cloud.example.test', 'A'), refusing.listener.port, '127.0.0.1');
    await within((async () => { while (refusing.listener.stats().refused < 1) await new Promise<void>((resolve) => setImmediate(resolve)); })(), waitMs, 'the refusal');
    t.notOk(answered);
    t.equal(refusing.flows.length, 0);
    t.match(refusing.logs.join('\n'), /not an allowed client/);
  });

  const digMissing = spawnSync('dig', ['-v']).error !== undefined;
  t.test('dig through the listener', { skip: digMissing ? 'dig is not installed on this machine (Debian package bind9-dnsutils); Node\'s resolver and raw sockets cover the same paths' : false }, async (t) => {
    const h = await startListener(t, upstream);
    for (const extra of [[], ['+tcp']]) {
      const out = await new Promise<string>((resolve, reject) => execFile('dig', ['@127.0.0.1', '-p', String(h.listener.port), '+short', '+tries=1', '+time=3', ...extra, 'cloud.example.test', 'A'], (error, stdout) => (error ? reject(error) : resolve(stdout))));
      t.equal(out.trim(), '127.0.0.1', `dig ${extra.join(' ')}`);
    }
    const https = await new Promise<string>((resolve, reject) => execFile('dig', ['@127.0.0.1', '-p', String(h.listener.port), '+tries=1', '+time=3', 'cloud.example.test', 'TYPE65'], (error, stdout) => (error ? reject(error) : resolve(stdout))));
    t.match(https, /status: NOERROR/);
    t.match(https, /ANSWER: 0/);
  });
});
