// A tun2socks-style VPN app through the built CLI: the phone's DNS goes over SOCKS5's UDP ASSOCIATE
// (PySocks), and then its connection goes over SOCKS5 CONNECT to the address it was given (curl
// with socks5://, which connects by address). The connection carries no name of its own; its flow
// must carry the name the phone looked up, as with --dns. With --threads 2 the two land on
// different loops (the cluster hands connections out in turn): the answer one loop saw names the
// other's flow. Root only (a resolver on port 53: helpers/socks-udp.ts).

import t from 'tap';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { startCapture } from '../helpers/cli.js';
import { tempDir, until, within } from '../helpers/lab.js';
import { runClient } from '../helpers/run-client.js';
import { askOverSocks, dnsQuestion, ownLoopback, socksUdpSkip as skip, startResolver } from '../helpers/socks-udp.js';

interface FlowLine { _phonehome: { kind: string; flowId: string; dnsName?: string; dns?: { name: string } } }

function flowLines(file: string): FlowLine[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FlowLine) : [];
}

function curl(args: string[]): Promise<string> {
  return runClient('curl', ['-sS', '--max-time', '20', ...args]);
}

for (const threads of [1, 2]) {
  t.test(`--threads ${threads}: a connection by address over SOCKS5 is named from the DNS answer the phone got over SOCKS5 UDP`, { skip }, async (t) => {
    const serverIp = ownLoopback(2);
    const resolver = await startResolver(ownLoopback(1), serverIp);
    const server = http.createServer((_req, res) => res.end('cloud'));
    server.listen(0, serverIp);
    await once(server, 'listening');
    t.teardown(() => { resolver.close(); server.close(); });
    const serverPort = (server.address() as net.AddressInfo).port;
    const out = path.join(tempDir(), 'run');
    const { child, port, stderr } = await startCapture(['--threads', String(threads), '--out', out, '--ca-dir', path.join(out, '..', 'ca')]);
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });

    const answer = await askOverSocks(ownLoopback(1), 53, dnsQuestion('photos.example.test', 7), port);
    t.not(answer, 'timeout', 'the phone got its answer');
    const flowLog = path.join(out, 'flows.jsonl');
    // In the primary, the answer goes to every loop before its line is written.
    await until(() => flowLines(flowLog).some((f) => f._phonehome.kind === 'dns'), 20_000, 'the dns flow in flows.jsonl');
    t.equal(await curl(['--socks5', `127.0.0.1:${port}`, `http://${serverIp}:${serverPort}/album`]), 'cloud');
    await until(() => flowLines(flowLog).some((f) => f._phonehome.kind === 'http'), 20_000, 'the http flow in flows.jsonl');

    child.kill('SIGINT');
    const [code] = await within(once(child, 'exit'), 60_000, 'the capture to exit');
    t.equal(code, 0, stderr());
    const flows = flowLines(flowLog);
    t.same(flows.map((f) => f._phonehome.kind), ['dns', 'http'], 'the question, then the connection');
    t.equal(flows[0]?._phonehome.dns?.name, 'photos.example.test');
    t.equal(flows[1]?._phonehome.dnsName, 'photos.example.test', 'the connection to the address carries the name the phone asked for');
    if (threads === 2) {
      const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as { notes?: string[] };
      const note = summary.notes?.find((n) => n.startsWith('--threads 2:'));
      t.match(note, /handed over 1, 1 flows/, 'one flow from each loop: the name crossed from one to the other');
    }
  });
}
