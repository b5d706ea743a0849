// The bench's output: one Markdown table (a row per figure, a column per subject, each cell the
// median of the rounds with their spread) and issue #24's goals, met or not, from the medians.
// Pure: it gets the figures and returns text, so the test can check the verdicts.

import { formatNumber, formatSpread, type Spread } from './figures.js';
import { SUBJECT_LABELS, type SubjectId } from './subjects.js';

export type FigureKey = 'upload' | 'uploadCpuMs' | 'download' | 'webSocket' | 'webSocketCpuMs' | 'smallWarmUp' | 'small' | 'smallCpuUs' | 'h2Small' | 'h2CpuUs' | 'h2Upload' | 'newHostP50' | 'newHostP95' | 'idleRss' | 'peakRss' | 'diskPerSmallFlow';
export type Column = 'direct' | SubjectId;

/** Per column: each figure's spread over the rounds, and why the column (or a figure) has none. */
export interface ColumnFigures {
  readonly figures: Partial<Record<FigureKey, Spread>>;
  /** A subject that never ran: why (its start-up error). */
  readonly failed?: string;
}

export interface RowSpec { readonly key: FigureKey; readonly label: string; readonly digits: number; readonly unit?: string }

/**
 * `warmSeconds`: the small requests made before the clock starts (their rate is a row of its own).
 * `webSocket`: the WebSocket row's messages and their size.
 */
export function rowSpecs(largeMb: number, concurrency: number, h2Streams: number, warmSeconds = 0, webSocket = { messages: 1000, kib: 64 }): RowSpec[] {
  return [
    { key: 'upload', label: `HTTPS upload, ${largeMb} MB (after one untimed), MB/s`, digits: 0 },
    { key: 'uploadCpuMs', label: 'CPU per uploaded MB, ms (all threads)', digits: 2 },
    { key: 'download', label: `HTTPS download, ${largeMb} MB, MB/s`, digits: 0 },
    { key: 'webSocket', label: `wss WebSocket, ${webSocket.messages} messages of ${webSocket.kib} KiB echoed one at a time, MB/s both ways`, digits: 0 },
    { key: 'webSocketCpuMs', label: 'CPU per WebSocket MB, ms (all threads)', digits: 2 },
    { key: 'smallWarmUp', label: `small requests in the first ${warmSeconds} s (warming up), ${concurrency} connections, req/s`, digits: 0 },
    { key: 'small', label: `small keep-alive requests, ${concurrency} connections, after the warm-up, req/s`, digits: 0 },
    { key: 'smallCpuUs', label: 'CPU per small request, µs (all threads)', digits: 0 },
    { key: 'h2Small', label: `HTTP/2 small requests, 1 connection, ${h2Streams} streams, req/s`, digits: 0 },
    { key: 'h2CpuUs', label: 'CPU per HTTP/2 small request, µs', digits: 0 },
    { key: 'h2Upload', label: `HTTP/2 upload, ${largeMb} MB, MB/s`, digits: 0 },
    { key: 'newHostP50', label: 'new host, first byte p50, ms', digits: 1 },
    { key: 'newHostP95', label: 'new host, first byte p95, ms', digits: 1 },
    { key: 'idleRss', label: 'RSS after start (idle), MB', digits: 0 },
    { key: 'peakRss', label: 'peak RSS (last: 1 GB up + 200 MB slow down), MB', digits: 0 },
    { key: 'diskPerSmallFlow', label: 'run folder bytes per small flow', digits: 0 },
  ];
}

export function markdownTable(columns: readonly Column[], results: ReadonlyMap<Column, ColumnFigures>, rows: readonly RowSpec[]): string {
  const label = (column: Column): string => (column === 'direct' ? 'direct (no proxy)' : SUBJECT_LABELS[column]);
  const lines = [`| figure | ${columns.map(label).join(' | ')} |`, `| --- |${columns.map(() => ' --- |').join('')}`];
  for (const row of rows) {
    if (columns.every((column) => !results.get(column)?.figures[row.key])) continue;
    const cells = columns.map((column) => {
      const result = results.get(column);
      if (result?.failed) return 'did not run';
      return formatSpread(result?.figures[row.key], row.digits);
    });
    lines.push(`| ${row.label} | ${cells.join(' | ')} |`);
  }
  const failures = columns.filter((column) => results.get(column)?.failed).map((column) => `- ${label(column)} did not run: ${results.get(column)!.failed}`);
  return [...lines, ...(failures.length > 0 ? ['', ...failures] : [])].join('\n');
}

export interface GoalVerdict { readonly goal: string; readonly verdict: 'met' | 'NOT met' | 'not measured'; readonly detail: string }

/**
 * Issue #24's goals from the medians (phonehome against the others). A goal whose figures are
 * missing is "not measured", with the missing subject named, never met by default.
 */
export function goalVerdicts(results: ReadonlyMap<Column, ColumnFigures>, detectionMBps?: number): GoalVerdict[] {
  const get = (column: Column, key: FigureKey): number | undefined => results.get(column)?.figures[key]?.median;
  const ph = (key: FigureKey): number | undefined => get('phonehome', key);
  const ratio = (a: number, b: number): string => `${formatNumber(a / b, 2)}x`;
  const atLeast = (goal: string, mine: number | undefined, theirs: number | undefined, factor: number, whose: string): GoalVerdict => {
    if (mine === undefined || theirs === undefined) return { goal, verdict: 'not measured', detail: mine === undefined ? 'no phonehome figure' : `no ${whose} figure` };
    return { goal, verdict: mine >= factor * theirs ? 'met' : 'NOT met', detail: ratio(mine, theirs) };
  };
  const atMost = (goal: string, mine: number | undefined, limit: number | undefined, whose: string, unit: string): GoalVerdict => {
    if (mine === undefined || limit === undefined) return { goal, verdict: 'not measured', detail: mine === undefined ? 'no phonehome figure' : `no ${whose} figure` };
    return { goal, verdict: mine <= limit ? 'met' : 'NOT met', detail: `${formatNumber(mine, unit === 'ms' ? 1 : 0)} ${unit} against ${formatNumber(limit, unit === 'ms' ? 1 : 0)} ${unit}` };
  };
  const httpCpu = get('bare-http', 'smallCpuUs');
  // A rate measured through a proxy here is held by the load side as well as by the proxy: one
  // CPU runs both the client and the origin. Uploads: in the first run with the CPU row, the pipe
  // relay's medians were 2.19 ms of CPU per MB at 206 MB/s, its core busy 45 % of the time.
  // HTTP/2: a batch of 8 streams goes back and forth between the two CPUs, so phonehome's core was
  // busy 70 % of the time at 3,274 req/s and 213 µs each, while mitmproxy's was busy 98 %. What one
  // core of a subject can do is 1 / its CPU per unit of work: the verdict uses that when both were
  // measured, and gives the measured rates and how busy each core was beside it.
  const perCore = (rate: GoalVerdict, factor: number, cost: { mine?: number; theirs?: number; rates: [number | undefined, number | undefined]; unit: 'ms of CPU per MB' | 'µs of CPU per request' }): GoalVerdict => {
    const { mine, theirs } = cost;
    if (mine === undefined || theirs === undefined || mine <= 0) return rate;
    const share = theirs / mine;
    const perSecond = cost.unit === 'ms of CPU per MB' ? 1e3 : 1e6;
    const busy = cost.rates.map((r, i) => (r === undefined ? undefined : `${formatNumber((100 * r * (i === 0 ? mine : theirs)) / perSecond)} %`));
    const digits = cost.unit === 'ms of CPU per MB' ? 2 : 0;
    return {
      goal: rate.goal,
      verdict: share >= factor ? 'met' : 'NOT met',
      detail: `${formatNumber(share, 2)}x per core: ${formatNumber(mine, digits)} against ${formatNumber(theirs, digits)} ${cost.unit}; measured rates ${rate.detail}${busy[0] && busy[1] ? `; cores busy ${busy[0]} and ${busy[1]}` : ''}`,
    };
  };
  return [
    atLeast('small requests >= 0.5x the bare HTTP relay', ph('small'), get('bare-http', 'small'), 0.5, 'bare HTTP relay'),
    atLeast('small requests >= 5x mitmproxy', ph('small'), get('mitmproxy', 'small'), 5, 'mitmproxy'),
    // "Ahead": strictly more requests per second than mockttp.
    (() => {
      const verdict = atLeast('small requests ahead of mockttp', ph('small'), get('mockttp', 'small'), 1, 'mockttp');
      return verdict.verdict === 'met' && ph('small') === get('mockttp', 'small') ? { ...verdict, verdict: 'NOT met' as const } : verdict;
    })(),
    atMost('CPU per small request <= 2x the bare HTTP relay', ph('smallCpuUs'), httpCpu === undefined ? undefined : 2 * httpCpu, 'bare HTTP relay', 'µs'),
    perCore(atLeast('HTTP/2 small requests >= 5x mitmproxy', ph('h2Small'), get('mitmproxy', 'h2Small'), 5, 'mitmproxy'), 5, { mine: ph('h2CpuUs'), theirs: get('mitmproxy', 'h2CpuUs'), rates: [ph('h2Small'), get('mitmproxy', 'h2Small')], unit: 'µs of CPU per request' }),
    perCore(atLeast('upload >= 0.9x the bare pipe relay', ph('upload'), get('bare-pipe', 'upload'), 0.9, 'bare pipe relay'), 0.9, { mine: ph('uploadCpuMs'), theirs: get('bare-pipe', 'uploadCpuMs'), rates: [ph('upload'), get('bare-pipe', 'upload')], unit: 'ms of CPU per MB' }),
    atMost('new host first byte p50 <= mitmproxy', ph('newHostP50'), get('mitmproxy', 'newHostP50'), 'mitmproxy', 'ms'),
    atMost('peak RSS <= 250 MB', ph('peakRss'), 250, '', 'MB'),
    atMost('idle RSS <= 100 MB', ph('idleRss'), 100, '', 'MB'),
    ...(detectionMBps === undefined ? [] : [{ goal: 'detection engine >= 100 MB/s', verdict: detectionMBps >= 100 ? 'met' as const : 'NOT met' as const, detail: `${formatNumber(detectionMBps)} MB/s` }]),
  ];
}

export function goalLines(verdicts: readonly GoalVerdict[]): string {
  return verdicts.map((v) => `- ${v.goal}: **${v.verdict}** (${v.detail})`).join('\n');
}
