// A small authoritative DNS server for tests (UDP and TCP on one 127.0.0.1 port, dns-packet):
//   cloud.example.test   A 127.0.0.1 · AAAA ::1 · HTTPS (alpn h3,h2 + an ech key) · TXT
//   www.example.test     CNAME cloud.example.test, then its A
//   extra.example.test   A, plus an HTTPS record in the additional section
//   big.example.test     TXT of ~3 KB: over UDP beyond the asker's buffer it is truncated (TC)
//   slow.example.test    held until release() (a resolver that does not answer)
//   anything else        NXDOMAIN
// It keeps every message it received, so tests can compare them with what the device sent.

import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';

export interface TestDnsServer {
  readonly port: number;
  /** Every query received, as bytes, with how it came. */
  readonly received: Array<{ transport: 'udp' | 'tcp'; bytes: Buffer }>;
  /** Answers the queries held for slow.example.test (with A 127.0.0.2). */
  release(): void;
  /** Resolves when a query for slow.example.test is being held. */
  heldQuery(): Promise<void>;
  close(): Promise<void>;
}

/** An HTTPS record's data (RFC 9460): priority 1, target ".", alpn=h3,h2, ech=<bytes>. */
export function httpsRecordData(): Buffer {
  const alpn = Buffer.from([2, ...Buffer.from('h3'), 2, ...Buffer.from('h2')]);
  const ech = Buffer.from('fake-ech-config-list');
  const param = (key: number, value: Buffer): Buffer => Buffer.concat([Buffer.from([key >> 8, key & 0xff, value.length >> 8, value.length & 0xff]), value]);
  return Buffer.concat([Buffer.from([0, 1]), Buffer.from([0]), param(1, alpn), param(5, ech)]);
}

const bigText = Array.from({ length: 12 }, (_, i) => `chunk-${i}-${'x'.repeat(240)}`);

function answersFor(name: string, type: string): { rcode: number; answers: Answer[]; additionals: Answer[] } {
  const lower = name.toLowerCase();
  const none = { rcode: 0, answers: [] as Answer[], additionals: [] as Answer[] };
  if (lower === 'cloud.example.test') {
    if (type === 'A') return { ...none, answers: [{ name, type: 'A', ttl: 300, data: '127.0.0.1' }] };
    if (type === 'AAAA') return { ...none, answers: [{ name, type: 'AAAA', ttl: 300, data: '::1' }] };
    if (type === 'UNKNOWN_65') return { ...none, answers: [{ name, type: 'UNKNOWN_65' as 'NULL', ttl: 300, data: httpsRecordData() }] };
    if (type === 'TXT') return { ...none, answers: [{ name, type: 'TXT', ttl: 300, data: ['v=test1 hello'] }] };
    return none;
  }
  if (lower === 'www.example.test') {
    const chain: Answer[] = [{ name, type: 'CNAME', ttl: 60, data: 'cloud.example.test' }];
    if (type === 'A') chain.push({ name: 'cloud.example.test', type: 'A', ttl: 300, data: '127.0.0.1' });
    return { ...none, answers: chain };
  }
  if (lower === 'extra.example.test' && type === 'A') {
    return { ...none, answers: [{ name, type: 'A', ttl: 120, data: '127.0.0.3' }], additionals: [{ name, type: 'UNKNOWN_65' as 'NULL', ttl: 120, data: httpsRecordData() }] };
  }
  if (lower === 'big.example.test' && type === 'TXT') return { ...none, answers: [{ name, type: 'TXT', ttl: 60, data: bigText }] };
  if (lower === 'slow.example.test') return { ...none, answers: [{ name, type: 'A', ttl: 60, data: '127.0.0.2' }] };
  return { ...none, rcode: 3 };
}

function respond(query: DecodedPacket, transport: 'udp' | 'tcp'): Buffer {
  const question = query.questions?.[0];
  const { rcode, answers, additionals } = question ? answersFor(question.name, question.type) : { rcode: 1, answers: [], additionals: [] };
  const opt = query.additionals?.find((record) => record.type === 'OPT');
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | rcode;
  // EDNS is answered with EDNS, as servers do (RFC 6891).
  const ednsAnswer: Answer[] = opt ? [{ name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
  const full = dnsPacket.encode({ id: query.id ?? 0, type: 'response', flags, questions: query.questions ?? [], answers, additionals: [...additionals, ...ednsAnswer] });
  const limit = opt && 'udpPayloadSize' in opt ? Math.max(512, opt.udpPayloadSize) : 512;
  if (transport === 'udp' && full.length > limit) {
    return dnsPacket.encode({ id: query.id ?? 0, type: 'response', flags: flags | dnsPacket.TRUNCATED_RESPONSE, questions: query.questions ?? [] });
  }
  return full;
}

export async function startTestDnsServer(): Promise<TestDnsServer> {
  const received: TestDnsServer['received'] = [];
  const held: Array<() => void> = [];
  let releaseAll = false;
  const heldWaiters: Array<() => void> = [];
  const tcpSockets = new Set<net.Socket>();

  const handle = (bytes: Buffer, transport: 'udp' | 'tcp', send: (answer: Buffer) => void): void => {
    received.push({ transport, bytes: Buffer.from(bytes) });
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(bytes);
    } catch {
      // A FORMERR with the id, as a server does for what it cannot read.
      const formerr = Buffer.alloc(12);
      bytes.copy(formerr, 0, 0, Math.min(2, bytes.length));
      formerr.writeUInt16BE(0x8001, 2);
      send(formerr);
      return;
    }
    const answer = respond(query, transport);
    if (query.questions?.[0]?.name.toLowerCase() === 'slow.example.test' && !releaseAll) {
      held.push(() => send(answer));
      for (const waiter of heldWaiters.splice(0)) waiter();
      return;
    }
    send(answer);
  };

  const udp = dgram.createSocket('udp4');
  udp.on('message', (message, from) => handle(message, 'udp', (answer) => udp.send(answer, from.port, from.address)));
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  const port = udp.address().port;

  const tcp = net.createServer((socket) => {
    tcpSockets.add(socket);
    socket.on('close', () => tcpSockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + message.length);
        handle(message, 'tcp', (answer) => {
          if (!socket.writable) return;
          const length = Buffer.alloc(2);
          length.writeUInt16BE(answer.length);
          socket.write(Buffer.concat([length, answer]));
        });
      }
    });
  });
  tcp.listen(port, '127.0.0.1');
  await once(tcp, 'listening');

  return {
    port,
    received,
    release: () => {
      releaseAll = true;
      for (const send of held.splice(0)) send();
    },
    heldQuery: () => new Promise((resolve) => (held.length > 0 ? resolve() : heldWaiters.push(resolve))),
    close: async () => {
      for (const socket of tcpSockets) socket.destroy();
      await Promise.all([new Promise<void>((resolve) => udp.close(() => resolve())), new Promise<void>((resolve) => tcp.close(() => resolve()))]);
    },
  };
}
