// Rules: what a lab considers serious. Files `*.yaml` in the rules folder, each a list:
//
//   rules:
//     - name: home-fr                      # data leaving France is critical
//       home: [FR]
//     - name: pinned-to-cn
//       when: { category: tls-pinned, country: [CN] }
//       severity: medium
//     - name: my-lab-server
//       when: { host: "*.lab.example" }
//       ignore: true
//
// Conditions (all must hold): category, country (ISO codes; "unknown" when none), asn, org, host,
// direction, detector, entity (the company behind the host), purpose (what its service does:
// analytics, advertising…), app (the package that sent it) — patterns with * and ? wildcards —
// first-party and canary (true/false). Actions: severity (set),
// home (countries: a finding sent elsewhere rises to `severity`, critical by default, never lowers),
// ignore. Rules apply in file-name then list order; every finding names the rules that changed it.

import fs from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { categories, parseSeverity, severities, severityRank, type Finding, type Severity } from '../model/finding.js';
import { ConfigError } from '../util/errors.js';
import { globMatch } from './glob.js';
import { withFields } from '../util/with-fields.js';

export interface RuleCondition {
  readonly category?: readonly string[];
  readonly country?: readonly string[];
  readonly asn?: readonly number[];
  readonly org?: readonly string[];
  readonly host?: readonly string[];
  readonly direction?: 'request' | 'response';
  readonly detector?: readonly string[];
  readonly entity?: readonly string[];
  readonly purpose?: readonly string[];
  readonly app?: readonly string[];
  readonly 'first-party'?: boolean;
  readonly canary?: boolean;
}

export interface Rule {
  readonly name: string;
  readonly source: string;
  readonly when: RuleCondition;
  readonly severity?: Severity;
  readonly home?: readonly string[];
  readonly ignore: boolean;
}

const CONDITION_KEYS = ['category', 'country', 'asn', 'org', 'host', 'direction', 'detector', 'entity', 'purpose', 'app', 'first-party', 'canary'];
const RULE_KEYS = ['name', 'when', 'severity', 'home', 'ignore', 'description'];

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function lineAt(text: string, document: Document, pathInDoc: Array<string | number>): number {
  const node = document.getIn(pathInDoc, true) as { range?: [number, number, number] } | undefined;
  const offset = node?.range?.[0];
  return offset === undefined ? 1 : text.slice(0, offset).split('\n').length;
}

/** Parses one rules file; every error names the file and line. */
export function parseRulesFile(file: string, text: string): Rule[] {
  const document = parseDocument(text, { prettyErrors: false });
  if (document.errors.length > 0) {
    const error = document.errors[0]!;
    throw new ConfigError(`${file}:${text.slice(0, error.pos[0]).split('\n').length}: ${error.message.split('\n')[0]}`);
  }
  const root = document.toJS() as { rules?: unknown } | null;
  if (root === null || root === undefined) return [];
  if (!isMap(document.contents) || !isSeq(document.get('rules', true))) throw new ConfigError(`${file}:1: expected a top-level "rules:" list`);
  const rules = root.rules as unknown[];
  const names = new Set<string>();
  return rules.map((raw, index): Rule => {
    const at = (...sub: Array<string | number>) => `${file}:${lineAt(text, document, ['rules', index, ...sub])}`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${at()}: each rule is a map with a name`);
    const r = raw as Record<string, unknown>;
    for (const key of Object.keys(r)) if (!RULE_KEYS.includes(key)) throw new ConfigError(`${at(key)}: unknown key "${key}" (use ${RULE_KEYS.join(', ')})`);
    if (typeof r['name'] !== 'string' || !/^[\w.-]{1,64}$/.test(r['name'])) throw new ConfigError(`${at()}: name must be 1-64 letters, digits, '.', '_' or '-'`);
    const name = r['name'];
    if (names.has(name)) throw new ConfigError(`${at('name')}: rule name ${name} is used twice in this file`);
    names.add(name);
    const when: Record<string, unknown> = {};
    const rawWhen = r['when'] ?? {};
    if (typeof rawWhen !== 'object' || Array.isArray(rawWhen)) throw new ConfigError(`${at('when')}: when is a map of conditions`);
    for (const [key, value] of Object.entries(rawWhen as Record<string, unknown>)) {
      const where = at('when', key);
      if (!CONDITION_KEYS.includes(key)) throw new ConfigError(`${where}: unknown condition "${key}" (use ${CONDITION_KEYS.join(', ')})`);
      if (key === 'category') {
        for (const c of list(value)) if (!(categories as readonly string[]).includes(String(c))) throw new ConfigError(`${where}: unknown category "${String(c)}" (use ${categories.join(', ')})`);
        when[key] = list(value).map(String);
      } else if (key === 'country') {
        for (const c of list(value)) if (!/^([A-Z]{2}|unknown)$/.test(String(c))) throw new ConfigError(`${where}: countries are ISO 3166 codes like CN, or "unknown"`);
        when[key] = list(value).map(String);
      } else if (key === 'asn') {
        for (const a of list(value)) if (!Number.isInteger(a) || (a as number) <= 0) throw new ConfigError(`${where}: asn takes AS numbers, e.g. 4808`);
        when[key] = list(value);
      } else if (key === 'direction') {
        if (value !== 'request' && value !== 'response') throw new ConfigError(`${where}: direction is request or response`);
        when[key] = value;
      } else if (key === 'canary' || key === 'first-party') {
        if (typeof value !== 'boolean') throw new ConfigError(`${where}: ${key} is true or false`);
        when[key] = value;
      } else {
        for (const p of list(value)) if (typeof p !== 'string' || p.length === 0 || p.length > 256) throw new ConfigError(`${where}: ${key} takes patterns (text with * and ? wildcards)`);
        when[key] = list(value);
      }
    }
    const severityText = r['severity'];
    const severity = severityText === undefined ? undefined : parseSeverity(String(severityText));
    if (severityText !== undefined && !severity) throw new ConfigError(`${at('severity')}: severity is one of ${severities.join(', ')}`);
    let home: string[] | undefined;
    if (r['home'] !== undefined) {
      home = list(r['home']).map(String);
      if (home.some((c) => !/^[A-Z]{2}$/.test(c))) throw new ConfigError(`${at('home')}: home takes ISO 3166 country codes like FR`);
    }
    const ignore = r['ignore'] === true;
    if (r['ignore'] !== undefined && typeof r['ignore'] !== 'boolean') throw new ConfigError(`${at('ignore')}: ignore is true or false`);
    if (!severity && !home && !ignore) throw new ConfigError(`${at()}: rule ${name} does nothing: give severity, home or ignore`);
    return { name, source: file, when: when as RuleCondition, ...(severity ? { severity } : {}), ...(home ? { home } : {}), ignore };
  });
}

/** Every *.yaml/*.yml file of a folder, in name order. A missing folder is an error only when `required`. */
export function loadRules(dir: string, required: boolean): Rule[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(`--rules ${dir}: ${(error as Error).message}`);
  }
  return names.flatMap((n) => {
    const file = path.join(dir, n);
    return parseRulesFile(file, fs.readFileSync(file, 'utf8'));
  });
}

function matches(rule: Rule, finding: Finding): boolean {
  const w = rule.when;
  const country = finding.destination.country ?? 'unknown';
  if (w.category && !w.category.includes(finding.category)) return false;
  if (w.country && !w.country.includes(country)) return false;
  if (w.asn && (finding.destination.asn === null || finding.destination.asn === undefined || !w.asn.includes(finding.destination.asn))) return false;
  if (w.org && !w.org.some((p) => globMatch(p, finding.destination.org ?? ''))) return false;
  if (w.host && !w.host.some((p) => globMatch(p, finding.host))) return false;
  if (w.direction && finding.direction !== w.direction) return false;
  if (w.detector && !w.detector.some((p) => globMatch(p, finding.detector))) return false;
  // A finding with no known company, purpose or app matches no pattern (not even `*`).
  if (w.entity && !matchesKnown(w.entity, finding.destination.entity)) return false;
  if (w.purpose && !matchesKnown(w.purpose, finding.destination.purpose)) return false;
  if (w.app && !matchesKnown(w.app, finding.app?.id)) return false;
  if (w['first-party'] !== undefined && (finding.destination.firstParty === true) !== w['first-party']) return false;
  if (w.canary !== undefined && (finding.canary !== null) !== w.canary) return false;
  return true;
}

function matchesKnown(patterns: readonly string[], value: string | null | undefined): boolean {
  return value !== undefined && value !== null && patterns.some((p) => globMatch(p, value));
}

/** The finding after the rules, with the names of those that changed it; undefined when one ignores it. */
export function applyRules(finding: Finding, rules: readonly Rule[]): Finding | undefined {
  let severity = finding.severity;
  const applied: string[] = [];
  for (const rule of rules) {
    if (!matches(rule, finding)) continue;
    if (rule.ignore) return undefined;
    if (rule.home) {
      const country = finding.destination.country;
      const target = rule.severity ?? 'critical';
      // Only what is known to leave for another country; private and unknown destinations stay.
      if (country && !rule.home.includes(country) && severityRank(target) > severityRank(severity)) {
        severity = target;
        applied.push(rule.name);
      }
    } else if (rule.severity && rule.severity !== severity) {
      severity = rule.severity;
      applied.push(rule.name);
    }
  }
  return applied.length > 0 ? withFields(finding, { severity, rules: applied }) : finding;
}
