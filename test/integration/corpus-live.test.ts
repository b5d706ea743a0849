// "Verify as a user would": the HTTP part of the inspection corpus, sent through a running capture
// session by a client over real HTTPS. Every personal item must be reported in findings.jsonl;
// nothing honest at medium or above. The counts are printed for the issue note.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import type { Flow } from '../../src/model/flow.js';
import { negatives, positives } from '../helpers/corpus.js';
import https from 'node:https';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { getOriginCa, httpsViaProxy, startOrigin, TunnelAgent } from '../helpers/lab.js';
import { startCaptureRun } from '../helpers/capture-run.js';

const overHttp = (flow: Flow): boolean => flow.kind === 'http' && flow.request !== undefined;

t.test('the HTTP corpus through a live capture over HTTPS', async (t) => {
  const origin = await startOrigin({ tls: true, hostname: 'api.example.test', handler: (req, res) => { req.resume(); req.on('end', () => res.end('ok')); } });
  t.teardown(() => origin.close());
  const { session, out } = await startCaptureRun();

  const rows = [...positives.map((r) => ({ ...r, positive: true })), ...negatives.map((r) => ({ ...r, positive: false, category: '', summary: /$^/ }))].filter((r) => overHttp(r.flow));
  for (const [index, row] of rows.entries()) {
    const request = row.flow.request!;
    const url = new URL(request.url);
    const headers = Object.fromEntries(request.headers.map(([k, v]) => [k.toLowerCase(), v]));
    await httpsViaProxy({ proxyPort: session.port, host: 'api.example.test', port: origin.port, method: request.method, path: `${url.pathname}?corpus=${index}`, headers, body: request.body.bytes, trust: session.ca.certPem });
  }
  await session.stop();
  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { url: string; category: string; severity: string; summary: string });
  let found = 0;
  let quiet = 0;
  for (const [index, row] of rows.entries()) {
    const mine = findings.filter((f) => new URL(f.url).searchParams.get('corpus') === String(index));
    if (row.positive) {
      const hit = mine.some((f) => f.category === row.category && row.summary.test(f.summary));
      t.ok(hit, `found live: ${row.name}`);
      if (hit) found++;
    } else {
      const loud = mine.filter((f) => ['medium', 'high', 'critical'].includes(f.severity));
      t.same(loud, [], `quiet live: ${row.name}`);
      if (loud.length === 0) quiet++;
    }
  }
  const positiveCount = rows.filter((r) => r.positive).length;
  const negativeCount = rows.length - positiveCount;
  t.comment(`live corpus over HTTPS: ${found}/${positiveCount} personal items found, ${quiet}/${negativeCount} look-alikes quiet, ${findings.length} findings in all`);
});

t.test('the WebSocket corpus through a live capture over wss', async (t) => {
  const leaf = getOriginCa().issueLeaf('ws.example.test');
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', () => ws.send('ok')));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => { wss.close(); server.close(); });
  const port = (server.address() as { port: number }).port;
  const { session, out } = await startCaptureRun();
  const agent = new TunnelAgent(session.port, session.ca.certPem);
  const rows = [...positives.map((r) => ({ ...r, positive: true })), ...negatives.map((r) => ({ ...r, positive: false, category: '', summary: /$^/ }))].filter((r) => r.flow.kind === 'websocket');
  for (const [index, row] of rows.entries()) {
    const client = new WebSocket(`wss://ws.example.test:${port}/live?corpus=${index}`, { agent });
    await once(client, 'open');
    for (const message of (row.flow.messages ?? []).filter((m) => m.fromClient)) {
      client.send(message.data, { binary: message.binary });
      await once(client, 'message');
    }
    client.close();
    await once(client, 'close');
  }
  agent.destroy();
  await session.stop();
  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { url: string; category: string; severity: string; summary: string; evidence: { path: string[] } });
  t.ok(rows.length >= 5, `${rows.length} WebSocket rows`);
  for (const [index, row] of rows.entries()) {
    const mine = findings.filter((f) => new URL(f.url).searchParams.get('corpus') === String(index));
    if (row.positive) t.ok(mine.some((f) => f.category === row.category && row.summary.test(f.summary) && f.evidence.path[0] === 'websocket:message[0]'), `found live over wss: ${row.name}`);
    else t.same(mine.filter((f) => ['medium', 'high', 'critical'].includes(f.severity)), [], `quiet live over wss: ${row.name}`);
  }
});
