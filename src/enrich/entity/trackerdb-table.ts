// Ghostery's tracker database (@ghostery/trackerdb, an optional dependency) read as a compact map
// domain → company, purpose, country. Only its JSON export is read: the package's adblocker engine
// would cost tens of megabytes we do not need to name a host's company.
//
// Licence: the trackerdb data is © Ghostery GmbH, CC BY-NC-SA 4.0
// (https://creativecommons.org/licenses/by-nc-sa/4.0/): attribution, non-commercial use, share
// alike. It is not bundled with phonehome; npm installs it beside it, and `--omit=optional` or
// `--entities none` leave it out (our own mobile table still answers).
//
// The JSON's shape (trackerdb 1.0.x): `domains` maps a domain to a pattern key; `patterns` maps
// that key to { name, category, organization }; `organizations` maps an organization key to
// { name, country, website_url }. A newer release's file can be given with --entities FILE.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { getDomain } from 'tldts';
import { ConfigError, describeError } from '../../util/errors.js';
import { entityHostKey } from './host-name.js';
import { purposeOfTrackerdbCategory, type Purpose } from './purpose.js';

/** What a table says about one domain. Records are shared between a company's domains. */
export interface EntityRecord {
  readonly entity: string;
  readonly purpose: Purpose;
  readonly country?: string;
}

/** The name (and home) a company goes by in our table, for trackerdb organizations we also list. */
export interface EntityName {
  readonly entity: string;
  readonly country?: string;
}

export interface EntityTable {
  readonly domains: ReadonlyMap<string, EntityRecord>;
  /** Package prefixes of each company's own apps, by entity name, where the data tells them. */
  readonly packages: ReadonlyMap<string, readonly string[]>;
}

// trackerdb.json is about 3 MB; a file a hundred times that is not one.
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** The trackerdb.json of the installed @ghostery/trackerdb, or undefined when it is not installed. */
export function installedTrackerdbFile(): string | undefined {
  let main: string;
  try {
    // The package exports only its engine's entry point; its data files sit one folder up from it.
    // Resolving the path loads nothing.
    main = createRequire(import.meta.url).resolve('@ghostery/trackerdb');
  } catch {
    return undefined;
  }
  const file = path.join(path.dirname(main), '..', 'trackerdb.json');
  return fs.existsSync(file) ? file : undefined;
}

/** Reads a trackerdb.json; anything missing, unreadable or of another shape is a one-line ConfigError naming the file. */
export async function loadTrackerdbTable(file: string, renamed?: ReadonlyMap<string, EntityName>): Promise<EntityTable> {
  let text: string;
  try {
    const stat = await fs.promises.stat(file);
    if (!stat.isFile()) throw new Error('not a file');
    if (stat.size > MAX_FILE_BYTES) throw new Error(`${stat.size} bytes, more than a trackerdb.json's ${MAX_FILE_BYTES}`);
    text = await fs.promises.readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`entities file ${file}: ${readFailure(error)}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`entities file ${file}: not JSON (${describeError(error)})`, { cause: error });
  }
  return compactTrackerdb(json, file, renamed);
}

/** Why a file could not be read, without Node's repetition of its path. */
function readFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file (ENOENT)';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  return describeError(error);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined;
}

/**
 * The compact table of a parsed trackerdb.json. Entries a newer release shapes differently are
 * skipped one by one; a file with no usable domain at all is the wrong file and an error.
 */
export function compactTrackerdb(json: unknown, file: string, renamed: ReadonlyMap<string, EntityName> = new Map()): EntityTable {
  const domains = field(json, 'domains');
  const patterns = field(json, 'patterns');
  const organizations = field(json, 'organizations') ?? {};
  if (!isObject(domains) || !isObject(patterns) || !isObject(organizations)) {
    throw new ConfigError(`entities file ${file}: not a trackerdb.json (expected "domains" and "patterns" objects)`);
  }
  const records = new Map<string, EntityRecord | null>();
  const recordOf = (patternKey: string): EntityRecord | null => {
    let record = records.get(patternKey);
    if (record !== undefined) return record;
    const pattern = field(patterns, patternKey);
    const organizationKey = text(field(pattern, 'organization')) ?? '';
    const organization = field(organizations, organizationKey);
    const ours = renamed.get(organizationKey);
    const entity = ours?.entity ?? text(field(organization, 'name')) ?? text(field(pattern, 'name'));
    const country = ours ? ours.country : text(field(organization, 'country'));
    record = entity === undefined ? null : { entity, purpose: purposeOfTrackerdbCategory(field(pattern, 'category')), ...(country && /^[A-Z]{2}$/.test(country) ? { country } : {}) };
    records.set(patternKey, record);
    return record;
  };
  const table = new Map<string, EntityRecord>();
  for (const [domain, patternKey] of Object.entries(domains)) {
    const key = entityHostKey(domain);
    if (key === undefined || typeof patternKey !== 'string') continue;
    const record = recordOf(patternKey);
    if (record) table.set(key, record);
  }
  if (table.size === 0) throw new ConfigError(`entities file ${file}: not a trackerdb.json (no domain maps to a known pattern)`);
  return { domains: table, packages: packagesOfOrganizations(organizations, patterns, domains, renamed) };
}

/**
 * A package prefix per organization, from its website's domain reversed (facebook.com → com.facebook),
 * only where trackerdb itself lists that domain as the organization's: a website on someone else's
 * domain (a profile page, a parent's site) would make that other company's apps look first party.
 */
function packagesOfOrganizations(
  organizations: Record<string, unknown>,
  patterns: Record<string, unknown>,
  domains: Record<string, unknown>,
  renamed: ReadonlyMap<string, EntityName>,
): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  for (const [key, organization] of Object.entries(organizations)) {
    const name = renamed.get(key)?.entity ?? text(field(organization, 'name'));
    const website = text(field(organization, 'website_url'));
    if (name === undefined || website === undefined) continue;
    let host: string;
    try {
      host = new URL(website).hostname;
    } catch {
      continue;
    }
    const domain = getDomain(host, { allowPrivateDomains: true });
    if (!domain) continue;
    const patternKey = field(domains, domain);
    if (typeof patternKey !== 'string' || text(field(field(patterns, patternKey), 'organization')) !== key) continue;
    const prefix = domain.split('.').reverse().join('.');
    if (!/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/.test(prefix)) continue; // no package name can hold it (a digit first, a hyphen)
    packages.set(name, [...(packages.get(name) ?? []), prefix]);
  }
  return packages;
}
