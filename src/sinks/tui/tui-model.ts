// The terminal UI's state and what it shows, as plain data: rows in ring buffers, selection,
// follow and pause, filter and search, which view is open. Pure (no blessed, no clock of its
// own): the screen layer feeds it events and keys and paints what render() returns.

import type { Flow, HttpFlow, RejectedFlow, WebSocketFlow } from '../../model/flow.js';
import { coverageOf } from '../../flow/coverage.js';
import { severities, severityRank, type Finding, type Severity } from '../../model/finding.js';
import type { WireguardInfo } from '../../model/wireguard-info.js';
import { terminalQr } from '../../util/wireguard-qr.js';
import { toDisplay } from '../../util/sanitize.js';
import { isFirstParty, type EntityInfo } from '../../enrich/entity/entity-lookup.js';
import { APP_HELP, appDetail, appLabel, fitLabel } from './app-label.js';
import { planColumns, type ColumnPlan } from './column-layout.js';
import { keymap, type Command, type Context } from './keymap.js';
import { RingBuffer } from './ring-buffer.js';
import { flowStatus } from '../flow-status.js';
import { limits } from '../../limits.js';

/** `qr`: a QR code's half blocks, painted white on black so scanners read it on any terminal. */
export type Style = 'plain' | 'dim' | 'bold' | 'selected' | 'header' | 'warn' | 'qr' | `sev.${Severity}`;
export interface Line { readonly text: string; readonly style: Style }

export interface FlowRow {
  readonly id: string; readonly time: string; readonly method: string; readonly host: string; readonly path: string;
  readonly status: string; readonly bytesUp: number; readonly bytesDown: number; readonly durationMs: number;
  readonly kind: Flow['kind']; readonly error?: string; readonly tags: readonly string[]; readonly country?: string | null;
  /** Bytes up the detectors were given, and whether nothing of the flow could be seen (coverage ledger). */
  readonly bytesUpInspected?: number; readonly unseen?: boolean;
  /** Encrypted DNS (DoT, DoH to a public resolver) we could not read: names not seen. */
  readonly encryptedDnsUnseen?: boolean;
  /** The app that sent it, as the app column shows it (with its confidence mark), and its id; both display-safe. */
  readonly app?: string; readonly appId?: string;
  /** The company behind the host and what its service does; display-safe. `firstParty`: the company is the app's own vendor. */
  readonly entity?: string; readonly purpose?: string; readonly firstParty?: boolean;
  /** Headers and a body preview, bounded, for the detail view. */
  readonly detail: readonly string[];
}

export interface ModelOptions {
  readonly capacity: number;
  readonly proxyAddresses: readonly string[];
  readonly outDir?: string;
  readonly insecureUpstream: boolean;
  readonly redact: (finding: Finding) => Finding;
  /** The running WireGuard endpoint (capture --wireguard), for the `w` view; absent or undefined when off. */
  readonly wireguard?: () => WireguardInfo | undefined;
}

type Pane = 'findings' | 'flows';
type FindingColumn = 'host' | 'entity' | 'app';
type FlowColumn = 'host' | 'app' | 'company' | 'down' | 'duration';
interface Filter {
  words: string[]; category?: string; severity?: Severity; host?: string;
  /** `app:` part of an app's id or name; `appExact`: the whole id (set by the `a` key, which names one app). */
  app?: string; appExact?: boolean;
  /** `entity:` part of the company's name or of its purpose (`entity:analytics`). */
  entity?: string;
}

const PREVIEW_BYTES = 2048;
/** QR codes drawn and kept (one per configured phone; a frame must not encode them again). */
const QR_CACHE_ENTRIES = limits.tuiQrCodes;
/** Apps the `a` key cycles through: the first ones seen (a run has tens, not thousands). */
const APPS_KEPT = limits.tuiAppsKept;

function size(n: number): string {
  if (n < 1024) return `${n}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)}k`;
  return `${(n / 1048576).toFixed(1)}M`;
}

function fit(text: string, width: number): string {
  if (width <= 0) return '';
  // A cut never leaves a space before its …: `Xiaomi…`, not `Xiaomi …`.
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, Math.max(0, width - 1)).trimEnd()}…`.padEnd(width);
}

/** A body preview that never puts raw bytes on the terminal: text when it is text, else hex. */
export function bodyPreview(bytes: Buffer): string[] {
  if (bytes.length === 0) return ['(empty)'];
  const head = bytes.subarray(0, PREVIEW_BYTES);
  const text = head.toString('utf8');
  const printable = [...text].filter((c) => c >= ' ' || c === '\n' || c === '\t').length / Math.max(1, text.length);
  const more = bytes.length > PREVIEW_BYTES ? [`… (${bytes.length - PREVIEW_BYTES} more bytes)`] : [];
  if (printable > 0.9) return [...text.split('\n').slice(0, 40).map((l) => toDisplay(l, 200)), ...more];
  const lines: string[] = [];
  for (let at = 0; at < Math.min(head.length, 256); at += 16) {
    const chunk = head.subarray(at, at + 16);
    lines.push(`${at.toString(16).padStart(6, '0')}  ${[...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(48)}  ${[...chunk].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')}`);
  }
  return [...lines, ...(bytes.length > 256 ? [`… (${bytes.length} bytes in all)`] : [])];
}

/** The company and its purpose, `Xiaomi (vendor cloud, first party)`, display-safe ('' when unknown). */
function companyText(entity: string | null | undefined, purpose: string | null | undefined, firstParty = false): string {
  if (!entity) return '';
  const about = [...(purpose ? [purpose] : []), ...(firstParty ? ['first party'] : [])].join(', ');
  return toDisplay(about ? `${entity} (${about})` : entity, 120);
}

/** The longest text a column would show for these rows. */
function longest<T>(rows: readonly T[], text: (row: T) => string): number {
  let most = 0;
  for (const row of rows) most = Math.max(most, text(row).length);
  return most;
}

/**
 * An optional column sized to its content: none when no row has anything for it; else no wider
 * than its longest text (and never below that text or `min`, whichever is smaller).
 */
function sized<Name extends string>(name: Name, min: number, ideal: number, longestText: number): Array<{ name: Name; min: number; ideal: number }> {
  if (longestText === 0) return [];
  return [{ name, min: Math.min(min, longestText), ideal: Math.max(Math.min(min, longestText), Math.min(ideal, longestText)) }];
}

/** The company column: with its purpose while a few letters of it fit, else the name alone, cut at its end. */
function fitCompany(entity: string | null | undefined, purpose: string | null | undefined, firstParty: boolean | undefined, width: number): string {
  const name = companyText(entity, undefined);
  return fit(width >= name.length + 6 ? companyText(entity, purpose, firstParty) : name, width);
}

/** The list's method column: the request's, else what the kind is (a stream, a tunnel, a pinned host, DNS). */
function methodOf(flow: Flow): string {
  switch (flow.kind) {
    case 'http':
    case 'websocket': return flow.request.method;
    case 'rejected': return flow.request?.method ?? '-';
    case 'raw': return 'TCP';
    case 'tunnel': return 'TUNNEL';
    case 'tls-failed': return 'PINNED';
    case 'dns': return 'DNS';
  }
}

/** The detail lines that are the kind's own: the exchange and its messages, what a stream's sides sent, or the DNS answer. */
function kindDetail(flow: Flow): string[] {
  switch (flow.kind) {
    case 'http':
    case 'websocket':
    case 'rejected': return exchangeDetail(flow);
    case 'raw': {
      const part = flow.part;
      const partText = part ? [`── part ${part.index} of stream ${part.of}${part.last ? ', the last' : ', still open'}; from byte ${part.bytesBefore?.up ?? 0} up and ${part.bytesBefore?.down ?? 0} down`] : [];
      return flow.stream ? ['', ...partText, '── client sent:', ...bodyPreview(flow.stream.up.bytes), '', '── server sent:', ...bodyPreview(flow.stream.down.bytes)] : [];
    }
    case 'dns': {
      const dns = flow.dns;
      return [
        '', `── DNS ${dns.type} ${dns.name}: ${dns.rcode ?? 'no answer'}${dns.upstream ? ` from ${dns.upstream}` : ''}${dns.stripped ? `, ${dns.stripped} HTTPS/SVCB record(s) stripped` : ''}`,
        ...dns.answers.slice(0, 20).map((a) => `${a.name}  ${a.ttl}  ${a.type}  ${a.data}`),
      ];
    }
    case 'tunnel':
    case 'tls-failed': return [];
  }
}

function exchangeDetail(flow: HttpFlow | WebSocketFlow | RejectedFlow): string[] {
  const detail: string[] = [];
  if (flow.request) {
    detail.push('', `── request: ${flow.request.method} ${flow.request.url}`);
    for (const [k, v] of flow.request.headers.slice(0, 40)) detail.push(`${k}: ${k.toLowerCase() === 'authorization' ? '(hidden)' : v}`);
    detail.push('', ...bodyPreview(flow.request.body.bytes));
  }
  if (flow.response) {
    detail.push('', `── response: ${flow.response.status} ${flow.response.statusText}`);
    for (const [k, v] of flow.response.headers.slice(0, 40)) detail.push(`${k}: ${v}`);
    detail.push('', ...bodyPreview(flow.response.body.bytes));
  }
  if (flow.response?.trailers) {
    detail.push('', '── response trailers');
    for (const [k, v] of flow.response.trailers.slice(0, 20)) detail.push(`${k}: ${v}`);
  }
  if (flow.grpc) {
    const status = flow.grpc.status === undefined ? 'no status (call not finished)' : `grpc-status ${flow.grpc.status}${flow.grpc.message ? ` (${flow.grpc.message})` : ''}`;
    detail.push('', `── ${flow.grpc.flavour} call: ${status}`);
  }
  if (flow.messages) {
    const part = flow.part;
    const partText = part ? ` (part ${part.index} of ${part.of}${part.last ? ', the last' : ', still open'}; messages from #${part.firstMessage})` : '';
    detail.push('', `── ${flow.messages.length} ${flow.kind === 'websocket' ? 'WebSocket' : 'gRPC'} message(s)${partText}`);
    for (const m of flow.messages.slice(0, 20)) detail.push(`${m.fromClient ? '→' : '←'} ${m.binary ? `(${m.totalBytes} bytes binary${m.compressed ? `, ${m.encoding ?? 'compressed'}` : ''})` : toDisplay(m.data.toString('utf8'), 160)}`);
  }
  return detail;
}

/**
 * A flow as the list shows it. `entityOf` names the company behind the flow's host (the UI passes
 * EntityLookup.of; tests pass their own), so the row needs no database of its own.
 */
export function flowRow(flow: Flow, country?: string | null, entityOf?: (host: string) => EntityInfo | undefined): FlowRow {
  const coverage = coverageOf(flow);
  const url = flow.request?.url;
  let host = flow.target.host;
  let path = '';
  if (url) {
    try {
      const u = new URL(url);
      host = u.hostname;
      path = `${u.pathname}${u.search}`;
    } catch { /* keep the target */ }
  }
  const detail: string[] = [
    `flow ${flow.id}  ${flow.kind}  ${flow.scheme}${flow.request?.httpVersion ? `  ${flow.request.httpVersion}` : ''}${flow.mode ? `  via ${flow.mode}` : ''}  ${flow.startedAt}  ${flow.durationMs} ms  coverage: ${coverage.class}`,
    `client ${flow.client.ip}:${flow.client.port}  →  ${flow.target.host}:${flow.target.port}${flow.destination ? `  (connected ${flow.destination.ip}:${flow.destination.port}${country ? `, ${country}` : ''})` : ''}`,
    ...(flow.sni ? [`TLS server name ${flow.sni}`] : []),
    ...(flow.error ? [`error: ${flow.error}`] : []),
    `tags: ${flow.tags.join(' ') || '-'}   bytes up ${flow.bytesUp}, down ${flow.bytesDown}`,
  ];
  detail.push(...kindDetail(flow));
  if (flow.kind === 'dns') {
    host = flow.dns.name;
    path = flow.dns.type;
  }
  const company = host ? entityOf?.(host) : undefined;
  const firstParty = flow.app !== undefined && company !== undefined && isFirstParty(flow.app.id, company);
  // Who sent it and who got it, right under the addresses (the rest of the detail is the exchange).
  const who = [
    ...(flow.app ? [appDetail(flow.app)] : []),
    ...(company ? [`company: ${company.entity}${company.purpose ? ` (${company.purpose})` : ''}${company.country ? `, based in ${company.country}` : ''}; ${company.domain} per ${company.source}${firstParty ? '; first party (the app\'s own vendor)' : ''}`] : []),
  ];
  detail.splice(flow.sni ? 3 : 2, 0, ...who);
  if (coverage.encryptedDns && coverage.unseen) detail.push('', `── encrypted DNS (${coverage.encryptedDns === 'dot' ? 'DNS over TLS' : 'DNS over HTTPS'}): the names it carried were not seen`);
  return {
    id: flow.id, time: flow.endedAt.slice(11, 19), method: methodOf(flow),
    host, path, status: flowStatus(flow), bytesUp: flow.bytesUp, bytesDown: flow.bytesDown,
    durationMs: flow.durationMs, kind: flow.kind, ...(flow.error ? { error: flow.error } : {}), tags: flow.tags, ...(country !== undefined ? { country } : {}),
    bytesUpInspected: coverage.bytesUpInspected, unseen: coverage.unseen, ...(coverage.encryptedDns && coverage.unseen ? { encryptedDnsUnseen: true } : {}),
    ...(flow.app ? { app: appLabel(flow.app), appId: toDisplay(flow.app.id, 120) } : {}),
    ...(company ? { entity: toDisplay(company.entity, 120), ...(company.purpose ? { purpose: toDisplay(company.purpose, 80) } : {}), ...(firstParty ? { firstParty } : {}) } : {}),
    detail: detail.map((l) => toDisplay(l, 400)),
  };
}

export function parseFilter(text: string): Filter {
  const filter: Filter = { words: [] };
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    const [key, value] = word.includes(':') ? [word.slice(0, word.indexOf(':')), word.slice(word.indexOf(':') + 1)] : ['', word];
    if ((key === 'cat' || key === 'category') && value) filter.category = value.toLowerCase();
    else if ((key === 'sev' || key === 'severity') && (severities as readonly string[]).includes(value.toLowerCase())) filter.severity = value.toLowerCase() as Severity;
    else if (key === 'host' && value) filter.host = value.toLowerCase();
    else if (key === 'app' && value) filter.app = value.toLowerCase();
    else if ((key === 'entity' || key === 'company') && value) filter.entity = value.toLowerCase();
    else filter.words.push(word.toLowerCase());
  }
  return filter;
}

export class TuiModel {
  readonly #options: ModelOptions;
  readonly findings: RingBuffer<Finding>;
  readonly flows: RingBuffer<FlowRow>;
  readonly #worstByFlow = new Map<string, Severity>();
  readonly #severityCounts: Record<string, number> = Object.fromEntries(severities.map((s) => [s, 0]));
  #pendingFindings: Finding[] = [];
  #pendingFlows: FlowRow[] = [];
  #flowsSeen = 0;
  #bytesUp = 0;
  #bytesUpInspected = 0;
  #clients = new Set<string>();
  /** DNS questions seen, and encrypted DNS connections not read (the coverage line says both). */
  #dnsQueries = 0;
  #encryptedDnsUnseen = 0;
  focus: Pane = 'findings';
  view: Context = 'main';
  paused = false;
  #selected: Record<Pane, number> = { findings: 0, flows: 0 };
  #detailScroll = 0;
  /** The event log (E): notices, newest last, bounded. */
  readonly #events = new RingBuffer<string>(1_000);
  #filterText = '';
  #filter: Filter = { words: [] };
  #search = '';
  /** A one-line message for the hint line (export done, no match…). */
  message = '';
  readonly #qrLines = new Map<string, string[]>();
  /** App ids seen (display-safe), first seen first: what the `a` key cycles through. */
  readonly #apps = new Set<string>();

  constructor(options: ModelOptions) {
    this.#options = options;
    this.findings = new RingBuffer(options.capacity);
    this.flows = new RingBuffer(options.capacity);
  }

  // ---- events --------------------------------------------------------------------------------

  addFinding(finding: Finding): void {
    const shown = this.#options.redact(finding);
    if (shown.app) this.#sawApp(toDisplay(shown.app.id, 120));
    this.#severityCounts[shown.severity] = (this.#severityCounts[shown.severity] ?? 0) + 1;
    const worst = this.#worstByFlow.get(shown.flowId);
    if (!worst || severityRank(shown.severity) > severityRank(worst)) {
      this.#worstByFlow.set(shown.flowId, shown.severity);
      if (this.#worstByFlow.size > this.#options.capacity * 2) this.#worstByFlow.delete(this.#worstByFlow.keys().next().value!);
    }
    delete this.#filtered.flows; // a flow's badge, and so a severity filter on flows, may change
    if (this.paused) this.#pendingFindings.push(shown);
    else this.#insert('findings', () => this.findings.push(shown));
  }

  /** A notice for the event log (already one line); also shown on the hint line until the next key. */
  addEvent(line: string, time = new Date()): void {
    this.#events.push(`${time.toISOString().slice(11, 19)}  ${line}`);
    this.message = `${line}  (E: event log)`;
  }

  addFlow(row: FlowRow, clientIp: string): void {
    this.#flowsSeen++;
    this.#bytesUp += row.bytesUp;
    this.#bytesUpInspected += row.bytesUpInspected ?? row.bytesUp;
    if (row.kind === 'dns') this.#dnsQueries++;
    if (row.encryptedDnsUnseen) this.#encryptedDnsUnseen++;
    this.#clients.add(clientIp);
    if (row.appId) this.#sawApp(row.appId);
    if (this.paused) this.#pendingFlows.push(row);
    else this.#insert('flows', () => this.flows.push(row));
  }

  #sawApp(id: string): void {
    if (this.#apps.size < APPS_KEPT) this.#apps.add(id);
  }

  /** New rows arrive at the top: a reader who moved down keeps looking at the same row. */
  #insert(pane: Pane, push: () => void): void {
    push();
    delete this.#filtered[pane];
    if (this.#selected[pane] > 0) this.#selected[pane] = Math.min(this.#selected[pane] + 1, this.#visible(pane).length - 1);
  }

  // ---- filtering -----------------------------------------------------------------------------

  #matchesFinding(f: Finding): boolean {
    const filter = this.#filter;
    if (filter.category && !f.category.startsWith(filter.category)) return false;
    if (filter.severity && severityRank(f.severity) < severityRank(filter.severity)) return false;
    if (filter.host && !f.host.toLowerCase().includes(filter.host)) return false;
    const app = f.app ? toDisplay(f.app.id, 120) : undefined;
    if (!this.#appMatches(app, f.app ? appLabel(f.app) : undefined)) return false;
    const company = companyText(f.destination.entity, f.destination.purpose, f.destination.firstParty);
    if (filter.entity && !company.toLowerCase().includes(filter.entity)) return false;
    const text = `${f.summary} ${f.host} ${f.category} ${f.destination.country ?? ''} ${app ?? ''} ${f.app ? appLabel(f.app) : ''} ${company}`.toLowerCase();
    return filter.words.every((w) => text.includes(w));
  }

  /** `app:` matches part of the id or label; the `a` key's filter, the whole id. */
  #appMatches(id: string | undefined, label: string | undefined): boolean {
    const wanted = this.#filter.app;
    if (wanted === undefined) return true;
    if (id === undefined) return false;
    if (this.#filter.appExact) return id.toLowerCase() === wanted;
    return `${id} ${label ?? ''}`.toLowerCase().includes(wanted);
  }

  #matchesFlow(r: FlowRow): boolean {
    const filter = this.#filter;
    if (filter.host && !r.host.toLowerCase().includes(filter.host)) return false;
    if (filter.severity && severityRank(this.#worstByFlow.get(r.id) ?? 'info') < severityRank(filter.severity)) return false;
    if (!this.#appMatches(r.appId, r.app)) return false;
    const company = companyText(r.entity, r.purpose, r.firstParty);
    if (filter.entity && !company.toLowerCase().includes(filter.entity)) return false;
    const text = `${r.method} ${r.host} ${r.path} ${r.status} ${r.kind} ${r.appId ?? ''} ${r.app ?? ''} ${company} ${r.country ?? ''}`.toLowerCase();
    return filter.words.every((w) => text.includes(w));
  }

  /** Rows a filter lets through, built once per change, not once per frame or per event. */
  #filtered: Partial<Record<Pane, Array<Finding | FlowRow>>> = {};

  #filterActive(): boolean {
    const f = this.#filter;
    return f.words.length > 0 || f.category !== undefined || f.severity !== undefined || f.host !== undefined || f.app !== undefined || f.entity !== undefined;
  }

  /** The visible rows of a pane, newest first: straight from the ring when nothing is filtered. */
  #visible(pane: Pane): { length: number; at(index: number): Finding | FlowRow | undefined } {
    if (!this.#filterActive()) {
      const ring = pane === 'findings' ? this.findings : this.flows;
      return { length: ring.length, at: (i) => ring.newest(i) };
    }
    let rows = this.#filtered[pane];
    if (!rows) {
      rows = [];
      if (pane === 'findings') for (const f of this.findings.fromNewest()) { if (this.#matchesFinding(f)) rows.push(f); }
      else for (const r of this.flows.fromNewest()) { if (this.#matchesFlow(r)) rows.push(r); }
      this.#filtered[pane] = rows;
    }
    const list = rows;
    return { length: list.length, at: (i) => list[i] };
  }

  setFilter(text: string): void {
    this.#filterText = text.trim();
    this.#filter = parseFilter(text);
    this.#filtered = {};
    this.#selected = { findings: 0, flows: 0 };
  }

  /**
   * The `a` key: show one app at a time, in the order they were first seen, then all again. The
   * rest of the filter stays; the app is matched whole (one package must not also show another
   * whose id merely contains it).
   */
  #nextApp(): void {
    const apps = [...this.#apps];
    if (apps.length === 0) {
      this.message = 'no app told yet: apps show when a request names one (X-Requested-With, User-Agent…)';
      return;
    }
    const current = this.#filter.appExact ? apps.findIndex((a) => a.toLowerCase() === this.#filter.app) : -1;
    const next = apps[current + 1];
    const others = this.#filterText.split(/\s+/).filter((w) => w && !/^app:/i.test(w)).join(' ');
    const text = next ? `${others} app:${next}`.trim() : others;
    const wasFocus = this.focus;
    this.setFilter(others);
    if (next) {
      this.#filterText = text;
      this.#filter = { ...this.#filter, app: next.toLowerCase(), appExact: true };
    }
    this.focus = wasFocus;
    this.message = next ? `app ${current + 2} of ${apps.length}: ${next}  (a: next app)` : 'all apps';
  }

  setSearch(text: string): void {
    this.#search = text.trim().toLowerCase();
    this.#selected[this.focus] = -1;
    this.#searchNext();
  }

  #searchNext(): void {
    if (!this.#search) return;
    const rows = this.#visible(this.focus);
    for (let step = 1; step <= rows.length; step++) {
      const index = (this.#selected[this.focus] + step + rows.length) % rows.length;
      const row = rows.at(index)!;
      const text = ('summary' in row ? `${row.summary} ${row.host} ${row.app ? appLabel(row.app) : ''} ${row.destination.entity ?? ''}` : `${row.method} ${row.host} ${row.path} ${row.app ?? ''} ${row.entity ?? ''}`).toLowerCase();
      if (text.includes(this.#search)) {
        this.#selected[this.focus] = index;
        this.message = '';
        return;
      }
    }
    this.#selected[this.focus] = Math.max(0, this.#selected[this.focus]);
    this.message = `no match for "${this.#search}"`;
  }

  // ---- keys ----------------------------------------------------------------------------------

  /** Applies a command; returns what the screen layer must do beyond repainting. */
  command(command: Command, pageRows = 10): 'quit' | 'prompt-search' | 'prompt-filter' | 'export' | undefined {
    this.message = '';
    const move = (delta: number): void => {
      if (this.#scrolls()) {
        this.#detailScroll = Math.max(0, this.#detailScroll + delta);
        return;
      }
      const rows = this.#visible(this.focus).length;
      this.#selected[this.focus] = Math.max(0, Math.min(rows - 1, this.#selected[this.focus] + delta));
    };
    switch (command) {
      case 'quit': return 'quit';
      case 'help': this.view = 'help'; return undefined;
      case 'events': this.view = 'events'; this.#detailScroll = 0; return undefined;
      case 'wireguard':
        if (this.#options.wireguard?.()) { this.view = 'wireguard'; this.#detailScroll = 0; }
        else this.message = 'WireGuard is off (capture --wireguard)';
        return undefined;
      case 'back':
        if (this.view !== 'main') this.view = 'main';
        else if (this.#filterText || this.#search) { this.setFilter(''); this.#search = ''; }
        else this.message = 'press Q to quit';
        return undefined;
      case 'next-pane': this.focus = this.focus === 'findings' ? 'flows' : 'findings'; return undefined;
      case 'down': move(1); return undefined;
      case 'up': move(-1); return undefined;
      case 'page-down': move(pageRows); return undefined;
      case 'page-up': move(-pageRows); return undefined;
      case 'top': if (this.#scrolls()) this.#detailScroll = 0; else this.#selected[this.focus] = 0; return undefined;
      case 'bottom': if (this.#scrolls()) this.#detailScroll = 1e9; else this.#selected[this.focus] = Math.max(0, this.#visible(this.focus).length - 1); return undefined;
      case 'open':
        if (this.#visible(this.focus).length > 0) { this.view = 'detail'; this.#detailScroll = 0; }
        return undefined;
      case 'pause':
        this.paused = !this.paused;
        if (!this.paused) this.#flushPending();
        return undefined;
      case 'search': return 'prompt-search';
      case 'search-next': this.#searchNext(); return undefined;
      case 'filter': return 'prompt-filter';
      case 'next-app': this.#nextApp(); return undefined;
      case 'export': return this.selectedFinding() ? 'export' : ((this.message = 'select a finding to export its evidence'), undefined);
    }
  }

  /** Views that are one long text: the keys scroll it instead of moving a selection. */
  #scrolls(): boolean {
    return this.view === 'detail' || this.view === 'events' || this.view === 'wireguard';
  }

  #flushPending(): void {
    for (const f of this.#pendingFindings) this.findings.push(f);
    for (const r of this.#pendingFlows) this.flows.push(r);
    this.#pendingFindings = [];
    this.#pendingFlows = [];
    this.#filtered = {};
    this.#selected = { findings: 0, flows: 0 };
  }

  selectedFinding(): Finding | undefined {
    if (this.focus !== 'findings') return undefined;
    return this.#visible('findings').at(this.#selected.findings) as Finding | undefined;
  }

  selectedFlow(): FlowRow | undefined {
    if (this.focus !== 'flows') return undefined;
    return this.#visible('flows').at(this.#selected.flows) as FlowRow | undefined;
  }

  // ---- rendering -----------------------------------------------------------------------------

  /**
   * Finding rows: time, severity, category, country, then the company beside the country, the
   * host, the app and the summary. The company and app columns exist when a row on screen has
   * one; on a narrow terminal the app column shrinks first, then hides, then the company's (both
   * stay in the detail view). The summary keeps half of what is beyond 40 columns (22 at least); the host
   * grows twice as fast as the others.
   */
  #findingColumns(width: number, rows: readonly Finding[]): ColumnPlan<FindingColumn> {
    const head = 8 + 1 + 8 + 1 + 10 + 1 + 2 + 1;
    return planColumns(width, head, Math.max(22, Math.floor((width - 40) / 2)), [
      ...sized('host', 12, Math.min(32, Math.max(12, Math.floor(width * 0.22))), longest(rows, (f) => toDisplay(f.host, 80))),
      ...sized('entity', 8, 34, longest(rows, (f) => companyText(f.destination.entity, f.destination.purpose, f.destination.firstParty))),
      ...sized('app', 12, 26, longest(rows, (f) => (f.app ? appLabel(f.app) : ''))),
    ], ['host', 'host', 'entity', 'app']);
  }

  #findingLine(f: Finding, width: number, columns: ColumnPlan<FindingColumn>): string {
    // The country has a column of its own: it is what a reader looks for, and it must never be cut.
    const country = (f.destination.country ?? '--').padEnd(2);
    const head = `${f.time.slice(11, 19)} ${f.severity.toUpperCase().padEnd(8)} ${f.category.padEnd(10)} ${country} `;
    const { host: hostWidth, entity: entityWidth = 0, app: appWidth = 0 } = columns.widths as Partial<Record<FindingColumn, number>>;
    const entity = entityWidth ? `${fitCompany(f.destination.entity, f.destination.purpose, f.destination.firstParty, entityWidth)} ` : '';
    const host = hostWidth ? `${fit(toDisplay(f.host, 80), hostWidth)} ` : '';
    const app = appWidth ? `${fitLabel(f.app ? appLabel(f.app) : '', appWidth)} ` : '';
    return fit(`${head}${entity}${host}${app}${f.decryptedLater ? '[decrypted later] ' : ''}${toDisplay(f.summary, 400)}${f.canary ? ` [canary ${f.canary}]` : ''}`, width);
  }

  /**
   * Flow rows: time, method, host, app, path, country, company, status, bytes up, bytes down,
   * duration and the finding badge. Bytes down and duration only have room to spare; going
   * narrower they go first, then the app column shrinks (with host and company; the host grows
   * twice as fast), then the company and the app hide, so the path keeps 12% of the width (8
   * columns at least). The country always stays.
   */
  #flowColumns(width: number, rows: readonly FlowRow[]): ColumnPlan<FlowColumn> {
    const fixed = 8 + 1 + 7 + 1 + 3 + 5 + 7 + 10; // time, method, country, status, bytes up, badge
    return planColumns(width, fixed, Math.max(8, Math.floor(width * 0.12)), [
      ...sized('host', 8, Math.min(26, Math.max(10, Math.floor(width * 0.2))), longest(rows, (r) => toDisplay(r.host, 80))),
      ...sized('app', 12, 24, longest(rows, (r) => r.app ?? '')),
      ...sized('company', 6, 34, longest(rows, (r) => companyText(r.entity, r.purpose, r.firstParty))),
      { name: 'down', min: 6, ideal: 6, late: true },
      { name: 'duration', min: 7, ideal: 7, late: true },
    ], ['host', 'host', 'company', 'app']);
  }

  #flowLine(r: FlowRow, width: number, columns: ColumnPlan<FlowColumn>): string {
    const worst = this.#worstByFlow.get(r.id);
    // Fixed width, so rows with and without a finding line up.
    // Unseen flows (opaque tunnels, refused handshakes) say so where a finding would stand.
    const badge = ` ${worst ? `▲${worst}` : r.unseen ? '⊘ unseen' : ''}`.padEnd(10);
    const { host: hostWidth, app: appWidth = 0, company: companyWidth = 0, down: downWidth, duration: durationWidth } = columns.widths as Partial<Record<FlowColumn, number>>;
    const country = ` ${(r.country ?? '--').padEnd(2)}${companyWidth ? ` ${fitCompany(r.entity, r.purpose, r.firstParty, companyWidth)}` : ''}`;
    const right = `${country} ${r.status.padStart(4)} ↑${size(r.bytesUp).padStart(5)}${downWidth ? ` ↓${size(r.bytesDown).padStart(5)}` : ''}${durationWidth ? ` ${`${r.durationMs}ms`.padStart(7)}` : ''}${badge}`;
    const left = `${r.time} ${r.method.padEnd(7)} ${hostWidth ? `${fit(toDisplay(r.host, 80), hostWidth)} ` : ''}${appWidth ? `${fitLabel(r.app ?? '', appWidth)} ` : ''}`;
    const pathWidth = Math.max(0, width - left.length - right.length);
    return fit(`${left}${fit(toDisplay(r.path || (r.error ? `(${r.error})` : ''), 300), pathWidth)}${right}`, width);
  }

  #list(pane: Pane, height: number, width: number): Line[] {
    const rows = this.#visible(pane);
    const selected = Math.min(this.#selected[pane], Math.max(0, rows.length - 1));
    this.#selected[pane] = Math.max(0, selected);
    const top = Math.max(0, Math.min(selected - Math.floor(height / 2), rows.length - height));
    const lines: Line[] = [];
    const shown: Array<Finding | FlowRow> = [];
    for (let i = top; i < Math.min(rows.length, top + height); i++) shown.push(rows.at(i)!);
    // One plan per frame, from the rows on screen: every row lines up, and a column is as wide as
    // its longest text there (short hosts leave room for the app); one nobody fills is not drawn.
    const findingColumns = pane === 'findings' ? this.#findingColumns(width, shown as Finding[]) : undefined;
    const flowColumns = pane === 'flows' ? this.#flowColumns(width, shown as FlowRow[]) : undefined;
    for (let i = top; i < Math.min(rows.length, top + height); i++) {
      const row = shown[i - top]!;
      const isSelected = i === selected && this.focus === pane;
      if ('summary' in row) lines.push({ text: this.#findingLine(row, width, findingColumns!), style: isSelected ? 'selected' : `sev.${row.severity}` });
      else {
        const worst = this.#worstByFlow.get(row.id);
        lines.push({ text: this.#flowLine(row, width, flowColumns!), style: isSelected ? 'selected' : row.kind === 'tls-failed' || row.error ? 'warn' : worst && severityRank(worst) >= severityRank('medium') ? `sev.${worst}` : row.kind === 'tunnel' ? 'dim' : 'plain' });
      }
    }
    if (rows.length === 0) lines.push({ text: pane === 'findings' ? (this.#filterText ? '  no finding matches the filter' : '  no findings yet') : this.#clients.size === 0 ? '  no device has connected yet: set its Wi-Fi proxy to an address above' : '  no flow matches the filter', style: 'dim' });
    return lines;
  }

  #statusLine(width: number): string {
    const sev = [...severities].reverse().filter((s) => (this.#severityCounts[s] ?? 0) > 0).map((s) => `${s} ${this.#severityCounts[s]}`).join(' · ') || 'no findings';
    const pending = this.#pendingFindings.length + this.#pendingFlows.length;
    const state = this.paused ? `❚❚ PAUSED${pending ? ` (${pending} waiting)` : ''}` : '● LIVE';
    const filter = this.#filterText ? `  [filter: ${toDisplay(this.#filterText, 40)}]` : '';
    const dropped = this.flows.dropped + this.findings.dropped > 0 ? `  [${this.flows.dropped + this.findings.dropped} oldest rows dropped]` : '';
    // The coverage ledger in one figure: how much of what devices sent the detectors could read.
    const seen = this.#bytesUp === 0 ? '' : ` (${Math.floor((this.#bytesUpInspected / this.#bytesUp) * 100)}% inspected)`;
    const dns = this.#dnsQueries + this.#encryptedDnsUnseen === 0 ? '' : `  DNS ${this.#dnsQueries}${this.#encryptedDnsUnseen ? ` (${this.#encryptedDnsUnseen} encrypted, unseen)` : ''}`;
    // The filter right after the state: on a narrow terminal it is what must not be cut off (the a key sets it).
    return fit(`${state}${filter}  flows ${this.#flowsSeen}  ↑${size(this.#bytesUp)}${seen}${dns}  ${sev}${dropped}${this.#options.outDir ? `  → ${this.#options.outDir}` : ''}`, width);
  }

  #detailLines(): string[] {
    const finding = this.selectedFinding();
    if (finding) {
      const json = JSON.stringify({ ...finding, details: finding.details }, null, 2).split('\n');
      return [
        `${finding.severity.toUpperCase()}  ${finding.category}  ${finding.detector}  ${finding.id} (flow ${finding.flowId})`,
        toDisplay(finding.summary, 1000),
        toDisplay(`to ${finding.host}${finding.destination.ip ? ` ${finding.destination.ip}` : ''}${finding.destination.country ? ` ${finding.destination.country}` : ''}${finding.destination.org ? ` (${finding.destination.asn ? `AS${finding.destination.asn} ` : ''}${finding.destination.org})` : ''}`, 400),
        ...(finding.destination.entity ? [toDisplay(`company: ${companyText(finding.destination.entity, finding.destination.purpose)}${finding.destination.firstParty ? ', first party (the app\'s own vendor)' : ''}`, 400)] : []),
        ...(finding.app ? [appDetail(finding.app)] : []),
        `path: ${finding.evidence.path.join(' > ')}`,
        ...(finding.evidence.excerpt ? [`excerpt: ${toDisplay(finding.evidence.excerpt, 300)}`] : []),
        ...(finding.rules ? [`rules: ${finding.rules.join(', ')}`] : []),
        '',
        ...json.map((l) => toDisplay(l, 300)),
      ];
    }
    return [...(this.selectedFlow()?.detail ?? ['(nothing selected)'])];
  }

  #qr(config: string): string[] {
    let lines = this.#qrLines.get(config);
    if (!lines) {
      lines = terminalQr(config).split('\n');
      if (this.#qrLines.size >= QR_CACHE_ENTRIES) this.#qrLines.clear();
      this.#qrLines.set(config, lines);
    }
    return lines;
  }

  /** The `w` view: the endpoint, then per phone its address and its QR code whole (never cut to the width). */
  #wireguardLines(info: WireguardInfo, width: number, height: number): Line[] {
    const lines: Line[] = [{ text: fit(toDisplay(`WireGuard: phones connect to ${info.endpoint} (UDP); in the WireGuard app tap +, "Scan from QR code"`, 300), width), style: 'bold' }];
    const codes = info.clients.map((client) => this.#qr(client.config));
    const tallest = Math.max(0, ...codes.map((qr) => qr.length));
    if (tallest + 2 > height - 1) lines.push({ text: fit(`j/k scroll; a terminal of ${tallest + 3} lines shows a whole code at once`, width), style: 'warn' });
    info.clients.forEach((client, i) => {
      const qr = codes[i]!;
      const qrWidth = Math.max(0, ...qr.map((l) => [...l].length));
      lines.push({ text: fit(toDisplay(`${client.name}: tunnel address ${client.address}`, 200), width), style: 'header' });
      if (qrWidth > width) lines.push({ text: fit(`(widen to ${qrWidth + 2} columns for the QR code)`, width), style: 'warn' });
      else lines.push(...qr.map((text) => ({ text, style: 'qr' as Style })));
      lines.push({ text: fit(toDisplay(`or: phonehome wireguard config --client ${client.name}   (also http://phonehome.cert/wireguard)`, 300), width), style: 'dim' }, { text: '', style: 'plain' });
    });
    return lines;
  }

  render(width: number, height: number): { header: Line[]; findings: Line[]; flows: Line[]; hint: Line; overlay?: Line[]; findingsTitle: string; flowsTitle: string } {
    const header: Line[] = [
      { text: fit(`phonehome  proxy: ${this.#options.proxyAddresses.join(' or ')}  CA: http://phonehome.cert/  ${this.#clients.size === 0 ? 'waiting for a device' : `${this.#clients.size} device(s) connected`}${this.#options.insecureUpstream ? '  INSECURE UPSTREAM' : ''}`, width), style: this.#options.insecureUpstream ? 'warn' : 'header' },
      { text: this.#statusLine(width), style: this.paused ? 'warn' : 'bold' },
    ];
    const body = Math.max(2, height - header.length - 3);
    const findingsHeight = Math.max(1, Math.ceil(body * 0.55));
    const flowsHeight = Math.max(1, body - findingsHeight);
    const hints = this.message || (this.view === 'main' ? `?:help  tab:pane  j/k:move  enter:open  /:search  f:filter  a:app  space:pause  e:export  E:events${this.#options.wireguard?.() ? '  w:WireGuard' : ''}  Q:quit` : 'esc/q:back  j/k:scroll  Q:quit');
    const result = {
      header,
      findings: this.#list('findings', findingsHeight, width),
      flows: this.#list('flows', flowsHeight, width),
      hint: { text: fit(hints, width), style: (this.message ? 'warn' : 'dim') as Style },
      findingsTitle: `Findings (newest first)${this.focus === 'findings' ? ' ◀' : ''}`,
      flowsTitle: `Flows (newest first)${this.focus === 'flows' ? ' ◀' : ''}`,
    };
    if (this.view === 'help') {
      const lines: Line[] = [{ text: 'Keys', style: 'bold' }, { text: '', style: 'plain' }];
      for (const b of keymap) lines.push({ text: fit(`${b.keys.join(', ').padEnd(18)} ${b.help}`, width), style: 'plain' });
      lines.push({ text: '', style: 'plain' }, { text: 'Severity: CRITICAL > HIGH > MEDIUM > LOW > INFO (written out, and coloured unless NO_COLOR is set).', style: 'dim' });
      for (const text of APP_HELP) lines.push({ text: fit(text, width), style: 'dim' });
      return { ...result, overlay: lines };
    }
    if (this.view === 'events') {
      const events = [...this.#events.fromNewest()];
      const lines = [`Event log (newest first, ${this.#events.length} event(s))`, '', ...(events.length > 0 ? events : ['(nothing yet: unverifiable servers, DNS failures, refused clients and pinned hosts show here)'])];
      const visible = height - 1;
      this.#detailScroll = Math.min(this.#detailScroll, Math.max(0, lines.length - visible));
      return { ...result, overlay: lines.slice(this.#detailScroll, this.#detailScroll + visible).map((text, i) => ({ text: fit(toDisplay(text, 400), width), style: (i === 0 && this.#detailScroll === 0 ? 'bold' : 'plain') as Style })) };
    }
    if (this.view === 'wireguard') {
      const info = this.#options.wireguard?.();
      const lines = info ? this.#wireguardLines(info, width, height) : [{ text: 'WireGuard is off (capture --wireguard)', style: 'bold' as Style }];
      const visible = height - 1;
      this.#detailScroll = Math.min(this.#detailScroll, Math.max(0, lines.length - visible));
      return { ...result, overlay: lines.slice(this.#detailScroll, this.#detailScroll + visible) };
    }
    if (this.view === 'detail') {
      const lines = this.#detailLines();
      const visible = height - 1;
      this.#detailScroll = Math.min(this.#detailScroll, Math.max(0, lines.length - visible));
      return { ...result, overlay: lines.slice(this.#detailScroll, this.#detailScroll + visible).map((text) => ({ text: fit(text, width), style: 'plain' as Style })) };
    }
    return result;
  }
}
