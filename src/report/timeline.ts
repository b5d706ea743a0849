// The timeline of a report: one row per destination, the run's time across, flows drawn as bins
// (darker where more was sent) and findings as marks coloured by severity. Drawn at build time as
// SVG; binned so ten thousand flows stay a few hundred shapes.

import { escapeHtml, formatBytes, shown } from './html-text.js';
import type { Severity } from '../model/finding.js';

export interface TimelineFlow {
  readonly time: number;
  readonly host: string;
  readonly bytesUp: number;
}

export interface TimelineFinding {
  readonly time: number;
  readonly host: string;
  readonly severity: Severity;
  readonly id: string;
  readonly label: string;
}

const MAX_ROWS = 24;
const BINS = 160;
const LABEL_WIDTH = 220;
const PLOT_WIDTH = 720;
const ROW_HEIGHT = 18;
const AXIS_HEIGHT = 28;
const OTHER = '(other destinations)';

/** Time of day in UTC; with milliseconds when the whole run is shorter than a minute. */
function clock(ms: number, withMs = false): string {
  return new Date(ms).toISOString().slice(11, withMs ? 23 : 19);
}

/** Rows: hosts with findings first, then by bytes sent; the rest share one row. */
function chooseRows(flows: readonly TimelineFlow[], findings: readonly TimelineFinding[]): { rows: string[]; rowOf: (host: string) => number } {
  const sent = new Map<string, number>();
  for (const f of flows) sent.set(f.host, (sent.get(f.host) ?? 0) + f.bytesUp);
  const flagged = new Set(findings.map((f) => f.host));
  for (const host of flagged) if (!sent.has(host)) sent.set(host, 0);
  const ranked = [...sent.keys()].sort((a, b) => Number(flagged.has(b)) - Number(flagged.has(a)) || sent.get(b)! - sent.get(a)! || a.localeCompare(b));
  const rows = ranked.length > MAX_ROWS ? [...ranked.slice(0, MAX_ROWS - 1), OTHER] : ranked;
  const index = new Map(rows.map((host, i) => [host, i]));
  return { rows, rowOf: (host) => index.get(host) ?? rows.length - 1 };
}

export function timelineSvg(flows: readonly TimelineFlow[], findings: readonly TimelineFinding[], startMs: number, endMs: number): string {
  if (flows.length === 0 && findings.length === 0) return '<p class="empty">No flows were recorded.</p>';
  let start = Number.isFinite(startMs) ? startMs : Infinity;
  let end = Number.isFinite(endMs) ? endMs : -Infinity;
  for (const item of [...flows, ...findings]) {
    if (!Number.isFinite(item.time)) continue;
    if (item.time < start) start = item.time;
    if (item.time > end) end = item.time;
  }
  end = Math.max(end, start + 1000);
  const x = (ms: number): number => LABEL_WIDTH + ((Math.min(Math.max(ms, start), end) - start) / (end - start)) * PLOT_WIDTH;
  const { rows, rowOf } = chooseRows(flows, findings);
  const height = rows.length * ROW_HEIGHT + AXIS_HEIGHT;
  const bins = rows.map(() => new Map<number, { flows: number; bytes: number }>());
  for (const f of flows) {
    const bin = Math.min(BINS - 1, Math.floor(((f.time - start) / (end - start)) * BINS));
    const cell = bins[rowOf(f.host)]!;
    const c = cell.get(bin) ?? { flows: 0, bytes: 0 };
    c.flows++;
    c.bytes += f.bytesUp;
    cell.set(bin, c);
  }
  const parts: string[] = [];
  const binWidth = PLOT_WIDTH / BINS;
  rows.forEach((host, i) => {
    const y = i * ROW_HEIGHT;
    parts.push(`<text class="row-label" x="${LABEL_WIDTH - 6}" y="${y + 13}" text-anchor="end">${shown(host, 34)}</text>`);
    parts.push(`<line class="row-line" x1="${LABEL_WIDTH}" x2="${LABEL_WIDTH + PLOT_WIDTH}" y1="${y + ROW_HEIGHT - 0.5}" y2="${y + ROW_HEIGHT - 0.5}"/>`);
    for (const [bin, c] of bins[i]!) {
      const shade = Math.min(5, Math.max(1, Math.floor(Math.log10(c.bytes + 1)) - 1));
      parts.push(`<rect class="bin sent-${shade}" x="${(LABEL_WIDTH + bin * binWidth).toFixed(1)}" y="${y + 3}" width="${Math.max(1.5, binWidth - 0.5).toFixed(1)}" height="${ROW_HEIGHT - 6}"><title>${shown(`${host}: ${c.flows} flow${c.flows === 1 ? '' : 's'}, ${formatBytes(c.bytes)} sent`)}</title></rect>`);
    }
  });
  for (const f of findings) {
    const cx = x(f.time);
    const cy = rowOf(f.host) * ROW_HEIGHT + ROW_HEIGHT / 2;
    parts.push(`<a href="#${escapeHtml(f.id)}"><path class="mark sev-${f.severity}" d="M${cx.toFixed(1)} ${cy - 6}l5 6-5 6-5-6z"><title>${shown(`${clock(f.time)} ${f.severity}: ${f.label}`, 300)}</title></path></a>`);
  }
  const axisY = rows.length * ROW_HEIGHT + 14;
  for (let i = 0; i <= 4; i++) {
    const ms = start + ((end - start) * i) / 4;
    parts.push(`<text class="axis" x="${x(ms).toFixed(1)}" y="${axisY}" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}">${clock(ms, end - start < 60_000)}</text>`);
  }
  parts.push(`<text class="axis" x="${LABEL_WIDTH + PLOT_WIDTH}" y="${axisY + 12}" text-anchor="end">UTC</text>`);
  return `<svg class="timeline" viewBox="0 0 ${LABEL_WIDTH + PLOT_WIDTH + 10} ${height}" role="img" aria-label="Flows over time per destination, findings marked">${parts.join('')}</svg>`;
}
