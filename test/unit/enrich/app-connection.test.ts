// ConnectionApps: flows of one connection share the app one of them revealed; stronger evidence
// replaces weaker; the memory is bounded; flows without a connection share nothing; nothing throws.

import t from 'tap';
import type { Flow, HeaderList, HttpFlow } from '../../../src/model/flow.js';
import { ConnectionApps, connectionAppEntries } from '../../../src/enrich/app/connection-apps.js';

let number = 0;
function flow(connection: string | undefined, headers: HeaderList, body = ''): HttpFlow {
  const id = `fl-${String(++number).padStart(6, '0')}`;
  const bytes = Buffer.from(body);
  return {
    id, kind: 'http', startedAt: '2026-12-02T10:00:00.000Z', endedAt: '2026-12-02T10:00:00.010Z', durationMs: 10,
    client: { ip: '192.168.1.23', port: 40000 }, ...(connection ? { connection } : {}), target: { host: 'api.example.cn', port: 443 }, scheme: 'https',
    request: { method: 'POST', url: 'https://api.example.cn/v1', httpVersion: 'HTTP/1.1', headers, body: { bytes, totalBytes: bytes.length, truncated: false } },
    bytesUp: bytes.length, bytesDown: 0, tags: [],
  };
}

const webView: HeaderList = [['X-Requested-With', 'com.miui.gallery']];
const plain: HeaderList = [['User-Agent', 'okhttp/4.9.2']];

t.test('a flow with its own evidence keeps it; later flows of the connection share it, naming the revealing flow', async (t) => {
  const apps = new ConnectionApps();
  const first = apps.attribute(flow('fl-c1', webView));
  t.same(first.app, { id: 'com.miui.gallery', confidence: 'high', evidence: 'X-Requested-With' });
  const second = apps.attribute(flow('fl-c1', plain));
  t.same(second.app, { id: 'com.miui.gallery', confidence: 'high', evidence: `connection ${first.id}: X-Requested-With` });
  const third = apps.attribute(flow('fl-c1', []));
  t.equal(third.app?.evidence, `connection ${first.id}: X-Requested-With`, 'the evidence names the revealing flow, not the last sharer');
  t.equal(apps.attribute(flow('fl-c2', plain)).app, undefined, 'another connection learns nothing');
});

t.test('a stronger attribution later on the connection replaces a weaker one; a weaker one does not', async (t) => {
  const apps = new ConnectionApps();
  const low = apps.attribute(flow('fl-c1', [['Content-Type', 'application/json']], '{"app_name":"Gallery"}'));
  t.match(low.app, { id: 'Gallery', confidence: 'low', evidence: 'body:app_name' });
  t.match(apps.attribute(flow('fl-c1', plain)).app, { id: 'Gallery', confidence: 'low', evidence: `connection ${low.id}: body:app_name` });

  const medium = apps.attribute(flow('fl-c1', [['User-Agent', 'Dalvik/2.1.0 (Linux; U; Android 6.0.1; MI 4LTE MIUI/V7.3.2.0.MXDCNDD) NewsArticle/5.1.3']]));
  t.match(medium.app, { id: 'NewsArticle', confidence: 'medium', evidence: 'User-Agent (app name)' }, 'its own stronger evidence wins over the connection\'s');
  const high = apps.attribute(flow('fl-c1', webView));
  t.match(high.app, { id: 'com.miui.gallery', confidence: 'high' });

  const weakerLater = apps.attribute(flow('fl-c1', [['Content-Type', 'application/json']], '{"app_name":"Other"}'));
  t.same(weakerLater.app, { id: 'com.miui.gallery', confidence: 'high', evidence: `connection ${high.id}: X-Requested-With` }, 'a weaker flow takes the connection\'s stronger app');
  t.match(apps.attribute(flow('fl-c1', plain)).app, { evidence: `connection ${high.id}: X-Requested-With` }, 'and the weaker one did not replace it');

  const sameLevel = apps.attribute(flow('fl-c1', [['X-Requested-With', 'com.other.app']]));
  t.match(sameLevel.app, { id: 'com.other.app', evidence: 'X-Requested-With' }, 'at equal strength a flow keeps its own evidence');
  t.match(apps.attribute(flow('fl-c1', plain)).app, { id: 'com.miui.gallery' }, 'and the first of equal strength stays the connection\'s');
});

t.test('flows without a connection share nothing', async (t) => {
  const apps = new ConnectionApps();
  t.match(apps.attribute(flow(undefined, webView)).app, { id: 'com.miui.gallery', evidence: 'X-Requested-With' }, 'their own evidence still counts');
  t.equal(apps.attribute(flow(undefined, plain)).app, undefined);
  t.equal(apps.size, 0, 'nothing was remembered');
  const bare = flow(undefined, plain);
  t.equal(apps.attribute(bare), bare, 'a flow without an app is handed back as it is');
});

t.test('the memory is bounded: the least recently used connection is forgotten first', async (t) => {
  t.ok(connectionAppEntries >= 1_000 && connectionAppEntries <= 100_000, `default ${connectionAppEntries} connections`);
  const apps = new ConnectionApps(3);
  for (const connection of ['a', 'b', 'c']) apps.attribute(flow(connection, [['X-Requested-With', `com.app.${connection}`]]));
  t.match(apps.attribute(flow('a', plain)).app, { id: 'com.app.a' }, 'using a makes b the oldest');
  apps.attribute(flow('d', [['X-Requested-With', 'com.app.d']]));
  t.equal(apps.size, 3);
  t.equal(apps.attribute(flow('b', plain)).app, undefined, 'b was forgotten');
  for (const connection of ['a', 'c', 'd']) t.match(apps.attribute(flow(connection, plain)).app, { id: `com.app.${connection}` }, `${connection} is remembered`);

  const big = new ConnectionApps();
  for (let i = 0; i < connectionAppEntries + 500; i++) big.attribute(flow(`conn-${i}`, webView));
  t.equal(big.size, connectionAppEntries, 'the default cap holds');
});

t.test('never throws: hostile flows come back unchanged or attributed', async (t) => {
  const apps = new ConnectionApps();
  const broken = { ...flow('fl-c1', plain), request: { headers: 42 } } as unknown as Flow;
  t.equal(apps.attribute(broken), broken, 'a malformed request is handed back');
  const noRequest = { ...flow('fl-c1', plain), request: undefined, kind: 'tunnel' } as unknown as Flow;
  t.equal(apps.attribute(noRequest).app, undefined, 'a tunnel without requests gets nothing yet');
  const weird = { ...flow({} as unknown as string, webView) } as Flow;
  t.doesNotThrow(() => apps.attribute(weird), 'a connection id that is not a string');
  const badBody = flow('fl-c9', [['Content-Type', 'application/json']]);
  const garbage = Buffer.from([0xff, 0x00, 0xfe, 0x22, 0x61, 0x70, 0x70]);
  const withGarbage = { ...badBody, request: { ...badBody.request!, body: { bytes: garbage, totalBytes: garbage.length, truncated: false } } };
  t.doesNotThrow(() => apps.attribute(withGarbage), 'a non-UTF-8 body');
  const huge = flow('fl-c9', [['User-Agent', 'x'.repeat(5_000_000)], ['X-Requested-With', 'y'.repeat(5_000_000)]]);
  t.equal(apps.attribute(huge).app, undefined, 'huge header values name no app');
});
