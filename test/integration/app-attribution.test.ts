// Who sent it, live: curl through the proxy plays a WebView app that names its package in
// X-Requested-With on its first request and not on the next one over the same connection. Both
// flows, and the finding in the second, carry the app (the second by its connection), and the
// finding names the company behind the host. A request on another connection with no such header
// gets no app: nothing is guessed.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { FindingPipeline } from '../../src/app/finding-pipeline.js';
import { EntityLookup } from '../../src/enrich/entity/entity-lookup.js';
import { defaultDetectors } from '../../src/inspect/detect/registry.js';
import type { Finding } from '../../src/model/finding.js';
import { startLab, startOrigin, tempDir, until } from '../helpers/lab.js';
import { runClient } from '../helpers/run-client.js';

const hasCurl = spawnSync('curl', ['--version']).status === 0;
const HOST = 'gallery.example.test';
/** An Android 4.4 WebView on the Redmi Note (HM NOTE 1W), as its User-Agent reads. */
const WEBVIEW_UA = 'Mozilla/5.0 (Linux; Android 4.4.2; HM NOTE 1W Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/30.0.0.0 Mobile Safari/537.36';
const position = JSON.stringify({ latitude: 48.85341, longitude: 2.3488, accuracy: 12 });

function curl(args: string[]): Promise<string> {
  return runClient('curl', ['-sS', '--max-time', '20', ...args]);
}

t.test('the app a request names is shared by its connection, and findings carry it with the company', { skip: hasCurl ? false : 'curl is not installed' }, async (t) => {
  const origin = await startOrigin({ tls: true, hostname: HOST, handler: (req, res) => { req.resume(); req.on('end', () => res.end(`ok ${req.url}`)); } });
  const lab = await startLab();
  t.teardown(async () => { await lab.close(); await origin.close(); });
  EntityLookup.place(new Map([[HOST, { entity: 'Xiaomi', purpose: 'vendor cloud', country: 'CN', domain: 'example.test', source: 'test' }]]));
  t.teardown(() => EntityLookup.place(new Map()));
  const pipeline = new FindingPipeline(lab.events, { detectors: defaultDetectors });
  const findings: Finding[] = [];
  lab.events.on('finding', (f) => findings.push(f));
  const caFile = path.join(tempDir(), 'ca.pem');
  fs.writeFileSync(caFile, lab.ca.certPem);
  const via = ['-x', `http://127.0.0.1:${lab.port}`, '--cacert', caFile];
  const url = (p: string) => `https://${HOST}:${origin.port}${p}`;

  // One curl, two requests (--next): the same proxy tunnel and TLS connection carry both.
  const out = await curl([...via, '-A', WEBVIEW_UA, '-H', 'X-Requested-With: com.miui.gallery', url('/page'),
    '--next', ...via, '-A', WEBVIEW_UA, '-H', 'content-type: application/json', '--data-binary', position, url('/api/where')]);
  t.equal(out, 'ok /pageok /api/where');
  // Another connection, with neither header: a browser-like request of no known app.
  await curl([...via, '-A', WEBVIEW_UA, '-H', 'content-type: application/json', '--data-binary', position, url('/api/elsewhere')]);
  await until(() => lab.flows.filter((f) => f.kind === 'http').length === 3, 20_000, 'three flows');
  await pipeline.drain();

  const byPath = (p: string) => lab.flows.find((f) => f.request && new URL(f.request.url).pathname === p)!;
  const first = byPath('/page');
  const second = byPath('/api/where');
  const other = byPath('/api/elsewhere');
  t.ok(first.connection && first.connection === second.connection, 'the two requests travelled on one connection, and say so');
  t.not(other.connection, first.connection);
  t.same(first.app, { id: 'com.miui.gallery', confidence: 'high', evidence: 'X-Requested-With' });
  t.match(second.app, { id: 'com.miui.gallery', confidence: 'high', evidence: new RegExp(`^connection ${first.id}: X-Requested-With`) }, 'the next request on the connection is the same app');
  t.equal(other.app, undefined, 'no header, no app: a WebView User-Agent alone does not name one');

  await until(() => findings.filter((f) => f.category === 'location').length === 2, 20_000, 'two location findings');
  const where = findings.find((f) => f.category === 'location' && f.url?.endsWith('/api/where'))!;
  t.match(where.app, { id: 'com.miui.gallery', confidence: 'high' });
  t.match(where.destination, { entity: 'Xiaomi', purpose: 'vendor cloud', firstParty: true }, "the gallery's data went to its own vendor: first party");
  const elsewhere = findings.find((f) => f.category === 'location' && f.url?.endsWith('/api/elsewhere'))!;
  t.equal(elsewhere.app, undefined);
  t.match(elsewhere.destination, { entity: 'Xiaomi', purpose: 'vendor cloud' });
  t.notOk(elsewhere.destination.firstParty, 'no app, so nothing to be first party to');
  await pipeline.close();
});
