// What the real browsers of the conformance suite (Chromium, Firefox) load, and how their origin
// transcripts are compared: a page over HTTP(S) that posts JSON with fetch(), a page whose
// WebSocket sends four messages as soon as it is open, the origin's handler for the first, a
// profile's NSS database that trusts a CA (both browsers verify with NSS on Linux), and the
// transcript with the browser's own choice of connections taken out.

import fs from 'node:fs';
import { runClient } from './differential.js';

export const page = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>conformance</title></head>
<body><pre id="out">waiting</pre><script>
fetch('/api/contacts?sync=1', { method: 'POST', headers: { 'content-type': 'application/json', 'x-app': 'conformance' }, body: JSON.stringify({ name: 'Ada', phone: '+44 20 7946 0000' }) })
  .then(async (r) => { document.getElementById('out').textContent = r.status + ' ' + r.headers.get('x-echo') + ' ' + await r.text(); });
</script></body></html>`;

/** A page that opens a WebSocket, sends four messages once it is open and closes on the last echo. */
export const webSocketPage = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>conformance</title></head>
<body><pre id="out">waiting</pre><script>
const events = [];
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/chat?room=7', ['chat.v2', 'chat.v1']);
ws.binaryType = 'arraybuffer';
ws.onopen = () => {
  events.push('open ' + ws.protocol + ' ' + ws.extensions);
  ws.send('hello');
  ws.send(JSON.stringify({ sms: '+33612345678: your code is 4921' }));
  ws.send(new Uint8Array([0, 1, 2, 255]));
  ws.send('last');
};
ws.onmessage = (e) => {
  if (typeof e.data !== 'string') return events.push('binary ' + [...new Uint8Array(e.data)].map((b) => b.toString(16).padStart(2, '0')).join(''));
  events.push('text ' + e.data);
  if (e.data === 'echo:last') ws.close(1000, 'bye');
};
ws.onerror = () => events.push('error');
ws.onclose = (e) => { events.push('close ' + e.code + ' ' + e.reason); document.getElementById('out').textContent = events.join('\\n'); };
</script></body></html>`;

export function handler(req: { method?: string; url?: string; on: (e: string, f: (c?: Buffer) => void) => unknown }, res: { statusCode: number; setHeader: (n: string, v: string) => unknown; end: (b?: string) => unknown }): void {
  const body: Buffer[] = [];
  req.on('data', (c) => body.push(c!));
  req.on('end', () => {
    if (req.url === '/') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(page);
    } else if (req.url?.startsWith('/api/')) {
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-echo', 'yes');
      res.end(JSON.stringify({ got: Buffer.concat(body).toString() }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
}

/** Where an HTTP/1 request starts in the escaped transcript: its request line. */
const requestLineStart = /(?=\b(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) \S+ HTTP\/1\.[01]\\r\\n)/;

/**
 * The origin's transcript with the browser's connection use taken out: TLS lines once (a browser
 * opens as many connections as it likes), each HTTP/1 request on its own and sorted, connection
 * numbers dropped. Whether two requests share a connection is the browser's timing: one CI run
 * under load saw this scenario differ, which its report did not show, and on one connection or two
 * is the only part of the transcript a browser may vary. A connection's bytes are joined before
 * they are split at request lines, so a body that came apart from its head stays with it. Requests
 * stay a multiset: one sent twice shows twice.
 */
export function requestsSorted(transcript: string): string {
  const connectionLines = new Set<string>();
  const bytesOf = new Map<string, string>();
  const segments = transcript.split(/^(?=--- connection \d+ )/m);
  for (const [i, segment] of segments.entries()) {
    // Each but the last ends with the line break the rendering joined segments with.
    const [, connection, kind, body] = /^--- connection (\d+) (\w+)\n([^]*)$/.exec(i < segments.length - 1 ? segment.slice(0, -1) : segment) ?? [];
    if (kind === 'bytes') bytesOf.set(connection!, (bytesOf.get(connection!) ?? '') + body!);
    else if (kind) connectionLines.add(`${kind}\n${body!.trimEnd()}`);
  }
  const requests = [...bytesOf.values()].flatMap((bytes) => bytes.split(requestLineStart).map((request) => `bytes\n${request.trimEnd()}`));
  return [...connectionLines, ...requests].sort().join('\n');
}

/**
 * Makes `directory` an NSS database that trusts `caFile` for TLS servers, as a user who installed
 * the CA would have. Chromium on Linux reads $HOME/.pki/nssdb, Firefox its profile's cert9.db.
 * (Chromium's --ignore-certificate-errors-spki-list matches only certificates the server sends,
 * and neither phonehome nor the origin sends its CA.)
 */
export async function nssDatabaseTrusting(directory: string, caFile: string): Promise<void> {
  fs.mkdirSync(directory, { recursive: true });
  const db = `sql:${directory}`;
  for (const args of [['-N', '--empty-password', '-d', db], ['-A', '-d', db, '-n', 'conformance-ca', '-t', 'C,,', '-i', caFile]]) {
    const made = await runClient('certutil', args);
    if (made.status !== 0) throw new Error(`certutil ${args[0]} failed: ${made.text}`);
  }
}
