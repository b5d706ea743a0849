// The report's timeline: rows per destination, flows binned, findings marked; bounded in size
// whatever the number of flows.

import t from 'tap';
import { timelineSvg, type TimelineFinding, type TimelineFlow } from '../../../src/report/timeline.js';

const start = Date.parse('2026-11-27T18:00:00.000Z');

t.test('hosts with findings come first, the rest share a row; ten thousand flows stay small', async (t) => {
  const flows: TimelineFlow[] = [];
  for (let i = 0; i < 10_000; i++) flows.push({ time: start + i * 360, host: `host${i % 100}.example.com`, bytesUp: 200 + i });
  const findings: TimelineFinding[] = [{ time: start + 1_800_000, host: 'gallery.example.cn', severity: 'high', id: 'f-000001', label: 'JPEG photo <img src=x>' }];
  const svg = timelineSvg(flows, findings, start, start + 3_600_000);
  const labels = [...svg.matchAll(/<text class="row-label"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  t.equal(labels.length, 24, 'at most 24 rows');
  t.equal(labels[0], 'gallery.example.cn', 'the host with a finding is the first row');
  t.equal(labels.at(-1), '(other destinations)', 'the others share the last row');
  t.match(svg, /<a href="#f-000001"><path class="mark sev-high"/, 'the finding is marked and links to its evidence');
  t.match(svg, /JPEG photo &lt;img src=x&gt;/, 'its label is escaped');
  t.ok(svg.length < 1_500_000, `bounded (${svg.length} characters for 10,000 flows)`);
  t.match(svg, />18:00:00<\/text>/, 'the axis starts at the run start');
  t.match(svg, />19:00:00<\/text>/, 'and ends at its end');
});

t.test('a run of a few seconds has an axis with milliseconds; no flows says so', async (t) => {
  const svg = timelineSvg([{ time: start + 100, host: 'a.example', bytesUp: 10 }], [], start, start + 1200);
  t.match(svg, />18:00:00\.000<\/text>/);
  t.match(svg, />18:00:01\.200<\/text>/);
  t.equal(timelineSvg([], [], start, start), '<p class="empty">No flows were recorded.</p>');
});
