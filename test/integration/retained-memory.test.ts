import t from 'tap';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { httpsViaProxy, startOrigin, TunnelAgent } from '../helpers/lab.js';
import { startCaptureRun } from '../helpers/capture-run.js';
import { collectGarbage } from '../../src/util/collect-garbage.js';

// A lab box runs for a week: at a phone's pace (about 7 flows a second for 20 phones) that is
// four million flows, so anything the capture keeps per flow (a record, a listener, a map entry
// per connection) grows without end, while the 30-minute lab day (12,000 flows) shows it only as a
// slow rise among the heap's own swings. Here the heap of the process that runs the capture is
// read after full collections every so many flows of a phone's kinds (API calls on kept-alive
// connections, messages that make findings, bodies large enough for the inspection worker, fresh
// device connections), and the slope of those readings must stay near zero.

/**
 * The heap in use once all that can be freed is: full collections, with a turn of the event loop
 * between them so that what they cleared (weak references, finalizers) is let go too.
 */
async function retainedHeapBytes(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxy / sxx;
}

/**
 * Flows before the first reading: the first few thousand compile code and fill caches, and the
 * heap still moves by 0.5-1 MB between readings (up, then down) until about 3,000.
 */
const WARM_FLOWS = 2500;
const FLOWS_BETWEEN_READINGS = 1200;
const READINGS = 5;
/**
 * Per flow. A flow's record kept by mistake is about 4 kB here (measured by keeping each ended
 * flow in a list). With nothing kept the slope was -330 to +90 bytes a flow (readings move by up
 * to 1.2 MB: large objects and code come and go), so a leak of a few hundred bytes a flow (an
 * entry of three small fields in a list measured 265) is within the noise and not caught here.
 */
const MAX_RETAINED_BYTES_PER_FLOW = 1000;

t.test("the capture's heap does not grow with the number of flows", async (t) => {
  const origin = await startOrigin({
    hostname: ['api.example.test', 'cdn.example.test'],
    tls: true,
    handler: (req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true,"items":[1,2,3]}');
      });
    },
  });
  t.teardown(() => origin.close());
  const { session, out } = await startCaptureRun();
  const trust = session.ca.certPem;
  const agent = new TunnelAgent(session.port, trust, { maxSockets: 8 });
  const large = Buffer.from(JSON.stringify({ blob: 'x'.repeat(40 * 1024) }));

  /** One flow of the mix, chosen by its number. */
  async function oneFlow(n: number): Promise<void> {
    if (n % 25 === 0) {
      // A new device connection (CONNECT, TLS), as an app opens after a pause.
      await httpsViaProxy({ proxyPort: session.port, host: 'cdn.example.test', port: origin.port, path: `/asset/${n}`, trust });
      return;
    }
    const body = n % 20 === 1 ? large
      : n % 4 === 0 ? JSON.stringify({ messages: [{ address: '+33612345678', body: `Rendez-vous a 18h, code ${n}`, date: 1415817000000 + n, type: 1 }] })
        : undefined;
    const url = body ? `https://api.example.test:${origin.port}/sync/${n}` : `https://api.example.test:${origin.port}/api/items?page=${n}`;
    await new Promise<void>((resolve, reject) => {
      const req = https.request(url, { method: body ? 'POST' : 'GET', agent, headers: { 'content-type': 'application/json', 'user-agent': 'com.lab.retained/1.0 (Linux; Android 9)' } });
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        res.on('end', resolve);
        res.on('error', reject);
      });
      req.end(body);
    });
  }
  let sent = 0;
  async function flows(count: number): Promise<void> {
    const end = sent + count;
    const lane = async () => {
      while (sent < end) await oneFlow(sent++);
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    await session.inspected();
  }

  await flows(WARM_FLOWS);
  const readings: Array<[number, number]> = [];
  for (let i = 0; i < READINGS; i++) {
    readings.push([sent, await retainedHeapBytes()]);
    if (i < READINGS - 1) await flows(FLOWS_BETWEEN_READINGS);
  }
  const perFlow = slope(readings);
  t.comment(`retained heap (MiB) after ${readings.map(([n, bytes]) => `${n} flows ${(bytes / 1048576).toFixed(2)}`).join(', ')}: ${perFlow.toFixed(0)} bytes a flow`);
  t.ok(perFlow < MAX_RETAINED_BYTES_PER_FLOW, `${perFlow.toFixed(0)} bytes kept per flow (under ${MAX_RETAINED_BYTES_PER_FLOW})`);

  agent.destroy();
  await session.stop();
  const lines = fs.readFileSync(path.join(out, 'flows.jsonl'), 'utf8').trim().split('\n');
  t.equal(lines.length, sent, 'every flow went through the capture and was recorded');
  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').filter(Boolean);
  t.ok(findings.length > 0, `the messages made findings (${findings.length})`);
});
