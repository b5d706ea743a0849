// The lab day's plot for the README: the capture's RSS (MB) and CPU (% of one core) over the
// minutes of the run, two small panels one above the other sharing the time axis. Pure: samples in,
// an SVG document out (no fonts or scripts beyond the viewer's sans-serif), so a table of samples
// tests it.

import type { LabDaySample } from './lab-day-figures.js';

const WIDTH = 640;
const PANEL_HEIGHT = 150;
const LEFT = 56;
const RIGHT = 16;
const TOP = 34;
const GAP = 40;
const BOTTOM = 34;
const HEIGHT = TOP + PANEL_HEIGHT + GAP + PANEL_HEIGHT + BOTTOM;

/** Text for SVG: the five characters XML gives meaning to, escaped. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The smallest "nice" number (1, 2, 2.5 or 5 times a power of ten) at or above `value`; 1 for 0 or less. */
export function niceCeiling(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value - 1e-9 * power) return step * power;
  return 10 * power;
}

/** A number as an axis label: whole where it is whole, one decimal otherwise. */
function label(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

const coordinate = (value: number): string => (Math.round(value * 10) / 10).toString();

interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly colour: string;
  readonly points: Array<{ minutes: number; value: number }>;
  /** The axis goes at least this high (CPU: 100 % of one core, so a quiet run does not look busy). */
  readonly floorMax: number;
}

function drawPanel(panel: Panel, top: number, maxMinutes: number): string[] {
  const yMax = niceCeiling(Math.max(panel.floorMax, ...panel.points.map((p) => p.value)));
  const x = (minutes: number): number => LEFT + (minutes / maxMinutes) * (WIDTH - LEFT - RIGHT);
  const y = (value: number): number => top + PANEL_HEIGHT - (value / yMax) * PANEL_HEIGHT;
  const parts: string[] = [];
  parts.push(`<text x="${LEFT}" y="${top - 8}" class="title">${escapeXml(panel.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const value = (yMax / 4) * i;
    parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${coordinate(y(value))}" y2="${coordinate(y(value))}" class="grid"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${coordinate(y(value) + 4)}" text-anchor="end">${escapeXml(`${label(value)}${panel.unit}`)}</text>`);
  }
  parts.push(`<rect x="${LEFT}" y="${top}" width="${WIDTH - LEFT - RIGHT}" height="${PANEL_HEIGHT}" class="frame"/>`);
  if (panel.points.length === 1) {
    const [only] = panel.points;
    parts.push(`<circle cx="${coordinate(x(only!.minutes))}" cy="${coordinate(y(only!.value))}" r="3" fill="${panel.colour}"/>`);
  } else if (panel.points.length > 1) {
    const path = panel.points.map((p) => `${coordinate(x(p.minutes))},${coordinate(y(p.value))}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="${panel.colour}" stroke-width="1.5"/>`);
  } else {
    parts.push(`<text x="${coordinate((LEFT + WIDTH - RIGHT) / 2)}" y="${coordinate(top + PANEL_HEIGHT / 2)}" text-anchor="middle">no samples</text>`);
  }
  return parts;
}

/**
 * The SVG of a run's samples: RSS above, CPU below, minutes along the bottom. An empty run draws
 * the frames with "no samples"; one sample is a dot. `title` is the caption above (escaped).
 */
export function labDayPlot(samples: readonly LabDaySample[], title = 'phonehome capture, lab day'): string {
  const lastMinutes = samples.length > 0 ? Math.max(...samples.map((s) => s.seconds)) / 60 : 0;
  // Ticks 1, 2, 5, 10, 15, 30 or 60 minutes apart, at most six; the axis ends on a tick, at least
  // one minute wide (a run's last sample comes a few seconds past its end: 1 % slack keeps 30 min at 30).
  const span = lastMinutes / 1.01;
  const tickStep = [1, 2, 5, 10, 15, 30, 60].find((step) => span / step <= 6) ?? Math.ceil(span / 6);
  const maxMinutes = Math.max(1, Math.ceil(span / tickStep)) * tickStep;
  const rss: Panel = { title: 'RSS (MB)', unit: '', colour: '#1f77b4', points: samples.map((s) => ({ minutes: s.seconds / 60, value: s.rssMb })), floorMax: 1 };
  const cpu: Panel = { title: 'CPU (% of one core, all threads)', unit: '%', colour: '#d62728', points: samples.flatMap((s) => (s.cpuPercent === null ? [] : [{ minutes: s.seconds / 60, value: s.cpuPercent }])), floorMax: 100 };
  const cpuTop = TOP + PANEL_HEIGHT + GAP;
  const x = (minutes: number): number => LEFT + (minutes / maxMinutes) * (WIDTH - LEFT - RIGHT);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    '<style>.grid{stroke:#ddd;stroke-width:1}.frame{fill:none;stroke:#888;stroke-width:1}.title{font-weight:bold}</style>',
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="16" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
    ...drawPanel(rss, TOP, maxMinutes),
    ...drawPanel(cpu, cpuTop, maxMinutes),
  ];
  for (let minute = 0; minute <= maxMinutes + 1e-9; minute += tickStep) {
    parts.push(`<line x1="${coordinate(x(minute))}" x2="${coordinate(x(minute))}" y1="${cpuTop + PANEL_HEIGHT}" y2="${cpuTop + PANEL_HEIGHT + 4}" stroke="#888"/>`);
    parts.push(`<text x="${coordinate(x(minute))}" y="${cpuTop + PANEL_HEIGHT + 16}" text-anchor="middle">${label(minute)}</text>`);
  }
  parts.push(`<text x="${WIDTH / 2}" y="${HEIGHT - 4}" text-anchor="middle">minutes</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
