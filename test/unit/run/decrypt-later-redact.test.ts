// decrypt follows the capture's --redact (issue #23, a planted bug): the flows it adds to a run
// captured with --redact are written without their bodies, as the capture wrote its own; a run
// captured without it gets them with their bodies.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { RecordedSession } from '../../../src/capture-file/recorded-session.js';
import { newFlowId, type Flow } from '../../../src/model/flow.js';
import { decryptLater, type CaptureReader, type SessionLayers } from '../../../src/run/decrypt-later.js';
import { recoverRun } from '../../../src/run/recover.js';
import { writeRunRecord } from '../../../src/run/run-record.js';
import { FlowLogSink } from '../../../src/sinks/flow-log-sink.js';
import { body } from '../../helpers/flows.js';
import { tempDir } from '../../helpers/lab.js';

const CLIENT = { ip: '127.0.0.1', port: 50_001 };
const SERVER = { ip: '127.0.0.1', port: 8443 };
const SECRET_BODY = 'message=the body only an unredacted run keeps';

/** A finished run holding one pinned host's tunnel and its ciphertext, captured with or without --redact. */
async function tunnelRun(redact: boolean): Promise<string> {
  const dir = tempDir('phonehome-decrypt-redact-');
  const tunnel: Flow = {
    id: 'fl-000001', kind: 'tunnel', startedAt: '2026-12-02T10:00:00.000Z', endedAt: '2026-12-02T10:00:01.000Z', durationMs: 1000, client: CLIENT, mode: 'http',
    target: { host: 'pinned.example.test', port: 8443 }, sni: 'pinned.example.test', scheme: 'tls', destination: SERVER, bytesUp: 4000, bytesDown: 300, tags: ['passthrough:learned'],
  } as Flow;
  const log = new FlowLogSink(path.join(dir, 'flows.jsonl'), { failed: () => undefined, recovered: () => undefined }, { redact, backlogLimitBytes: 1 << 20, retryMs: 1000 });
  log.write(tunnel);
  log.close();
  fs.writeFileSync(path.join(dir, 'findings.jsonl'), '');
  writeRunRecord(dir, { v: 1, tool: { name: 'phonehome', version: '0.0.0-test' }, insecureUpstream: false, passthroughConfigured: [], sessions: [{ startedAt: '2026-12-02T10:00:00.000Z', options: { bodyLimitBytes: 1 << 20, redact } }], finished: false });
  await recoverRun(dir);
  fs.writeFileSync(path.join(dir, 'opaque.pcapng'), 'ciphertext read by the reader stand-in');
  const keys = path.join(dir, 'app.keys');
  fs.writeFileSync(keys, `CLIENT_RANDOM ${'a'.repeat(64)} ${'b'.repeat(96)}\n`);
  return dir;
}

const session: RecordedSession = {
  client: CLIENT, server: SERVER, startedAt: '2026-12-02T10:00:00.500Z', endedAt: '2026-12-02T10:00:01.000Z',
  tls: { sni: 'pinned.example.test', alpn: 'http/1.1', version: 'TLSv1.2', decrypted: true },
  chunks: [], bytesUp: 4000, bytesDown: 300, tags: [],
};
const reader: CaptureReader = async (_file, options) => options.onSession(session);
const layers: SessionLayers = (s, options) => [{
  id: newFlowId(), kind: 'http', startedAt: s.startedAt, endedAt: s.endedAt, durationMs: 500, client: s.client, target: { host: s.server.ip, port: s.server.port },
  scheme: 'https', destination: s.server,
  request: { method: 'POST', url: 'https://pinned.example.test:8443/post', httpVersion: 'HTTP/1.1', headers: [['content-type', 'application/x-www-form-urlencoded']], body: body(SECRET_BODY) },
  response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], body: body('stored') },
  bytesUp: SECRET_BODY.length, bytesDown: 6, tags: [...options.tags, 'offline'],
} as Flow];

for (const redact of [true, false]) {
  t.test(`a run captured ${redact ? 'with' : 'without'} --redact: the decrypted flow is written ${redact ? 'without' : 'with'} its body`, async (t) => {
    const dir = await tunnelRun(redact);
    const result = await decryptLater(dir, { keylogFiles: [path.join(dir, 'app.keys')], readCapture: reader, sessionToFlows: layers });
    t.same(result.opened, { sessions: 1, bytes: 4300 });
    const lines = fs.readFileSync(path.join(dir, 'flows.jsonl'), 'utf8').split('\n').filter(Boolean);
    t.equal(lines.length, 2);
    t.equal(lines[1]!.includes(SECRET_BODY), !redact);
  });
}
