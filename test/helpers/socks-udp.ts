// A DNS resolver of a test's own, and PySocks (Debian's python3-socks) asking it straight or through
// a SOCKS5 proxy's UDP ASSOCIATE, as a VPN app on a phone forwards its DNS. The resolver listens on
// port 53 of a loopback address of the test's own, so that port 53 is free whatever else runs: root
// only (`socksUdpSkip` says why not).

import dgram from 'node:dgram';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import dnsPacket from 'dns-packet';
import { runClient } from './run-client.js';

const PYTHON = '/usr/bin/python3';
const client = path.join(import.meta.dirname, '..', 'fixtures', 'python', 'socks_udp_dns.py');

/** Why a test of SOCKS5 UDP with PySocks cannot run here, or false. */
export const socksUdpSkip: string | false = process.getuid?.() !== 0 ? 'needs root (a resolver on port 53)'
  : spawnSync(PYTHON, ['-c', 'import socks']).status !== 0 ? 'PySocks is not installed (apt-get install python3-socks)' : false;

/** 127.53.X.host: loopback addresses of this test process's own. */
export function ownLoopback(host: number): string {
  return `127.53.${process.pid % 250}.${host}`;
}

/** A resolver on IP:53 that answers every A question with `answer`; it counts the questions. */
export async function startResolver(ip: string, answer = '192.0.2.7'): Promise<{ questions: () => number; close(): void }> {
  const socket = dgram.createSocket('udp4');
  let questions = 0;
  socket.on('message', (message, from) => {
    questions++;
    const query = dnsPacket.decode(message);
    const question = query.questions![0]!;
    socket.send(dnsPacket.encode({ id: query.id ?? 0, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: [question], answers: [{ type: 'A', name: question.name, ttl: 60, data: answer }] }), from.port, from.address);
  });
  socket.bind(53, ip);
  await once(socket, 'listening');
  return { questions: () => questions, close: () => socket.close() };
}

export function dnsQuestion(name: string, id: number): Buffer {
  return dnsPacket.encode({ id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
}

/** PySocks (or a plain UDP socket without a proxy port): the answer's hex and its source, or "timeout". */
export async function askOverSocks(resolver: string, port: number, query: Buffer, proxyPort?: number): Promise<string> {
  return (await runClient(PYTHON, [client, resolver, String(port), query.toString('hex'), ...(proxyPort !== undefined ? [String(proxyPort)] : [])], 20_000)).trim();
}
