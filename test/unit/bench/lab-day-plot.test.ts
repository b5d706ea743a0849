// The lab day's plot and arithmetic on tables of samples: the SVG's scales (where a point lands,
// which ticks the axes get), its labels escaped, an empty and a one-sample run; the percentiles of
// added latency, CPU % from ticks, RSS at given minutes and the ±10 % flatness verdict, with
// look-alikes on either side of each bound. No timing is measured here.

import t from 'tap';
import { escapeXml, labDayPlot, niceCeiling } from '../../../src/bench/lab-day-plot.js';
import { addedLatency, cpuFigures, cpuPercent, labDayWarmUpSeconds, percentile, rssAtMinutes, rssFlatness, type LabDaySample } from '../../../src/bench/lab-day-figures.js';
import { PHONE_PACE } from '../../../src/bench/lab-day.js';
import { parseLabDayArgs } from '../../../src/bench/lab-day.js';

const sample = (seconds: number, rssMb: number, cpuPercent: number | null): LabDaySample => ({ seconds, rssMb, cpuPercent, flows: 0 });

/** The polyline's points of the panel drawn in `colour`, as numbers. */
function polyline(svg: string, colour: string): Array<[number, number]> {
  const match = new RegExp(`<polyline points="([^"]+)" fill="none" stroke="${colour}"`).exec(svg);
  if (!match) return [];
  return match[1]!.split(' ').map((pair) => pair.split(',').map(Number) as [number, number]);
}

/** A coordinate as the SVG writes it: to a tenth. */
const at = (x: number, y: number): [number, number] => [Math.round(x * 10) / 10, Math.round(y * 10) / 10];

/** The axis labels (text elements anchored at the end: the y axes' values). */
function yLabels(svg: string): string[] {
  return [...svg.matchAll(/<text x="\d+" y="[\d.]+" text-anchor="end">([^<]*)<\/text>/g)].map((m) => m[1]!);
}

/** The minute ticks under the bottom panel. */
function minuteTicks(svg: string): string[] {
  return [...svg.matchAll(/<text x="[\d.]+" y="\d+" text-anchor="middle">(\d+(?:\.\d)?)<\/text>/g)].map((m) => m[1]!);
}

t.test('scales: 30 minutes end on the 30-minute tick; RSS and CPU axes reach a nice number above their peak', async (t) => {
  const samples = [sample(0, 140, null), sample(600, 180, 40), sample(1200, 190, 130), sample(1805, 185, 20)];
  const svg = labDayPlot(samples);
  t.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), 'an SVG document');
  t.ok(svg.trimEnd().endsWith('</svg>'));
  t.same(minuteTicks(svg), ['0', '5', '10', '15', '20', '25', '30'], 'six 5-minute steps; the last sample 5 s past 30 does not widen the axis');
  t.same(yLabels(svg), ['0', '50', '100', '150', '200', '0%', '50%', '100%', '150%', '200%'], 'RSS to 200 MB (peak 190), CPU to 200 % (peak 130, more than one core)');
  const rss = polyline(svg, '#1f77b4');
  t.equal(rss.length, 4, 'one RSS point per sample');
  // x from 56 to 624 for 0–30 min; RSS panel from y 34 (200 MB) to 184 (0 MB).
  t.same(rss[0], at(56, 184 - (140 / 200) * 150), 'the first sample at minute 0, 140 MB');
  t.same(rss[2], at(56 + (20 / 30) * 568, 34 + 150 - (190 / 200) * 150), 'minute 20, 190 MB');
  const cpu = polyline(svg, '#d62728');
  t.equal(cpu.length, 3, 'the first sample has no CPU interval and no point');
  t.same(cpu[0], at(56 + (10 / 30) * 568, 224 + 150 - (40 / 200) * 150), 'minute 10, 40 % in the lower panel (y 224–374)');
});

t.test('a quiet run keeps CPU on a 100 % axis; a short run is at least a minute wide', async (t) => {
  const svg = labDayPlot([sample(0, 90, null), sample(10, 91, 3), sample(20, 92, 4)]);
  t.same(minuteTicks(svg), ['0', '1']);
  t.same(yLabels(svg).slice(5), ['0%', '25%', '50%', '75%', '100%'], 'a quiet capture is not drawn as a busy one');
  t.same(yLabels(svg).slice(0, 5), ['0', '25', '50', '75', '100'], 'RSS to 100 MB for a 92 MB peak');
});

t.test('the caption is escaped', async (t) => {
  const svg = labDayPlot([sample(0, 100, null)], 'lab <day> & "night" \'s');
  t.match(svg, '>lab &lt;day&gt; &amp; &quot;night&quot; &#39;s</text>');
  t.notMatch(svg, '<day>');
  t.equal(escapeXml('a<b>&"\''), 'a&lt;b&gt;&amp;&quot;&#39;');
  t.equal(escapeXml('plain 100%'), 'plain 100%', 'nothing else changes');
});

t.test('empty and one-sample input', async (t) => {
  const empty = labDayPlot([]);
  t.equal((empty.match(/>no samples</g) ?? []).length, 2, 'both panels say so');
  t.notMatch(empty, '<polyline', 'no line');
  t.notMatch(empty, 'NaN');
  t.same(minuteTicks(empty), ['0', '1']);
  const one = labDayPlot([sample(0, 120, null)]);
  t.equal((one.match(/<circle /g) ?? []).length, 1, 'one RSS dot');
  t.match(one, /<circle cx="56" cy="[\d.]+" r="3" fill="#1f77b4"\/>/);
  t.equal((one.match(/>no samples</g) ?? []).length, 1, 'and no CPU interval yet');
  t.notMatch(one, 'NaN');
});

t.test('niceCeiling', async (t) => {
  t.equal(niceCeiling(190), 200);
  t.equal(niceCeiling(200), 200, 'a nice number is its own ceiling');
  t.equal(niceCeiling(201), 250);
  t.equal(niceCeiling(0.3), 0.5);
  t.equal(niceCeiling(0), 1);
  t.equal(niceCeiling(-5), 1);
  t.equal(niceCeiling(Number.NaN), 1);
});

t.test('added latency per kind: percentiles of through − direct', async (t) => {
  t.ok(Number.isNaN(percentile([], 50)), 'no values: NaN');
  t.equal(percentile([5], 99), 5);
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  t.equal(percentile(hundred, 50), 50);
  t.equal(percentile(hundred, 99), 99);
  t.equal(percentile([...hundred].reverse(), 99), 99, 'order does not matter');
  const pairs = [
    ...hundred.map((i) => ({ kind: 'api' as const, seconds: i, directMs: 1, throughMs: 1 + i / 10 })),
    { kind: 'upload' as const, seconds: 3, directMs: 20, throughMs: 50 },
  ];
  const figures = addedLatency(pairs);
  t.same(figures.map((f) => f.kind), ['api', 'upload'], 'kinds without pairs are left out');
  t.equal(figures[0]!.pairs, 100);
  t.equal(figures[0]!.addedP50, 5);
  t.equal(figures[0]!.addedP99, 9.9);
  t.same(figures[1], { kind: 'upload', pairs: 1, directP50: 20, throughP50: 50, addedP50: 30, addedP99: 30 });
});

t.test('CPU % from ticks, and its mean and peak', async (t) => {
  t.equal(cpuPercent(1000, 1100, 100, 10), 10, '1 s of CPU in 10 s');
  t.equal(cpuPercent(1000, 3000, 100, 10), 200, 'two cores busy');
  t.equal(cpuPercent(1000, 990, 100, 10), 0, 'ticks never go back');
  t.throws(() => cpuPercent(0, 1, 100, 0), /positive seconds/);
  t.same(cpuFigures([sample(0, 1, null), sample(10, 1, 10), sample(20, 1, 30)]), { meanPercent: 20, peakPercent: 30 });
  t.equal(cpuFigures([sample(0, 1, null)]), undefined);
});

t.test('RSS at given minutes, and flat within ±10 % of its level after the first minute', async (t) => {
  const samples = [sample(0, 150, null), sample(50, 230, 5), sample(60, 200, 5), sample(310, 210, 5), sample(600, 220, 5)];
  t.same(rssAtMinutes(samples, [1, 5, 10, 30]), [{ minute: 1, rssMb: 200 }, { minute: 5, rssMb: 210 }, { minute: 10, rssMb: 220 }], 'the first sample at or past each minute; none past the end');
  const flat = rssFlatness(samples)!;
  t.same(flat, { warmUpSeconds: 60, referenceMb: 200, minMb: 200, maxMb: 220, maxDeviation: 0.1, flat: true }, 'the warm-up peak does not count; exactly +10 % is flat');
  t.equal(rssFlatness([...samples, sample(900, 221, 5)])!.flat, false, '+10.5 % is not');
  t.equal(rssFlatness([sample(60, 200, 5), sample(120, 179, 5)])!.flat, false, 'nor is -10.5 %');
  t.equal(rssFlatness([sample(0, 100, null), sample(59, 100, 1)]), undefined, 'no sample past the warm-up: no verdict');
});

t.test("the warm-up lasts until every phone has made every kind of action, and the level is taken there", async (t) => {
  t.equal(labDayWarmUpSeconds(PHONE_PACE), 180, "at a phone's pace: the pinned app's second attempt comes within 1.5 x 120 s");
  t.equal(labDayWarmUpSeconds({ api: 0.5, websocket: 1, upload: 5, pinned: 3 }), 7.5, 'from the longest gap, whichever kind it is');
  // A capture that climbs while the phones first upload photos and meet the pinned host, then holds.
  const samples = [sample(0, 84, null), sample(60, 92, 3), sample(120, 97, 3), sample(180, 98, 3), sample(900, 103, 3), sample(1800, 100, 3)];
  const warm = rssFlatness(samples, labDayWarmUpSeconds(PHONE_PACE))!;
  t.match(warm, { warmUpSeconds: 180, referenceMb: 98, minMb: 98, maxMb: 103, flat: true }, 'held to its level at 3 minutes: flat');
  t.match(rssFlatness(samples, 60)!, { referenceMb: 92, maxMb: 103, flat: false }, 'held to the 1-minute sample, taken mid-climb: not flat');
  t.equal(rssFlatness([...samples, sample(1810, 109, 3)], 180)!.flat, false, 'growth after the warm-up still fails it');
});

t.test('labday arguments', async (t) => {
  t.same(parseLabDayArgs([]), { minutes: 30, devices: 20, socks: 4 });
  t.same(parseLabDayArgs(['0.5', '--devices', '6', '--socks', '2', '--json', 'a.json', '--svg', 'a.svg']), { minutes: 0.5, devices: 6, socks: 2, json: 'a.json', svg: 'a.svg' });
  t.throws(() => parseLabDayArgs(['--devices', '0']), /--devices takes a number above 0 up to 250, not "0"/);
  t.throws(() => parseLabDayArgs(['--devices', '251']), /up to 250/);
  t.throws(() => parseLabDayArgs(['ten']), /unknown option "ten"/);
  t.throws(() => parseLabDayArgs(['--svg']), /--svg needs a value/);
  t.throws(() => parseLabDayArgs(['--devices', '2', '--socks', '3']), /--socks 3 is more than --devices 2/);
});
