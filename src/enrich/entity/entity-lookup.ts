// The company behind a host and what its service does, from the tracker and company databases:
// our own mobile table (mobile-entities.ts) and Ghostery's trackerdb (trackerdb-table.ts; an
// optional dependency, CC BY-NC-SA 4.0, replaced by --entities FILE or turned off by
// --entities none). Loaded once per process, off the forwarding path; lookups are cached.
//
// The longest matching domain suffix wins, on label boundaries (alog.umeng.com is umeng.com's,
// notumeng.com is nobody's); at equal length our table wins, since it exists to correct a
// web-centric list for phones.

import { ConfigError } from '../../util/errors.js';
import { packageUnderPrefixes } from './first-party.js';
import { domainSuffixes, entityHostKey } from './host-name.js';
import { MOBILE_ENTITIES } from './mobile-entities.js';
import { installedTrackerdbFile, loadTrackerdbTable, type EntityName, type EntityRecord, type EntityTable } from './trackerdb-table.js';
import { withFields } from '../../util/with-fields.js';

export interface EntityInfo {
  /** The company, as people know it: `Umeng (Alibaba)`, `Google`, `Xiaomi`. */
  readonly entity: string;
  /** What the service does: `analytics`, `advertising`, `crash reporting`, `push`, `vendor cloud`… (purpose.ts) */
  readonly purpose: string;
  /** The company's home country (ISO 3166-1 alpha-2), when the data gives it. */
  readonly country?: string;
  /** The domain that matched (`umeng.com` for `alog.umeng.com`). */
  readonly domain: string;
  /** Which data said so: `trackerdb` (Ghostery), `phonehome` (our mobile table), or the --entities file. */
  readonly source: string;
  /**
   * The company's own app package prefixes, when this record brings them (a placed, simulated
   * company); otherwise they come from the tables by the company's name.
   */
  readonly packages?: readonly string[];
}

const OUR_SOURCE = 'phonehome';
const TRACKERDB_SOURCE = 'trackerdb';
const CACHE_ENTRIES = 10_000;

/** Our mobile table as a lookup table, and the names it gives trackerdb's organizations. */
function ourTable(): { table: EntityTable; renamed: Map<string, EntityName> } {
  const domains = new Map<string, EntityRecord>();
  const packages = new Map<string, readonly string[]>();
  const renamed = new Map<string, EntityName>();
  for (const company of MOBILE_ENTITIES) {
    const name: EntityName = { entity: company.entity, ...(company.country ? { country: company.country } : {}) };
    for (const [domain, purpose] of Object.entries(company.domains)) domains.set(domain, withFields(name, { purpose }));
    packages.set(company.entity, company.packages);
    for (const key of company.trackerdbOrganizations ?? []) renamed.set(key, name);
  }
  return { table: { domains, packages }, renamed };
}

const OURS = ourTable();

/** A loaded database and the name it goes by in EntityInfo.source. */
interface SourcedTable {
  readonly table: EntityTable;
  readonly source: string;
}

export class EntityLookup {
  readonly #theirs: SourcedTable | undefined;
  readonly #packages: ReadonlyMap<string, readonly string[]>;
  readonly #cache = new Map<string, EntityInfo | null>();

  private constructor(theirs: SourcedTable | undefined) {
    this.#theirs = theirs;
    const packages = new Map<string, readonly string[]>(theirs?.table.packages);
    for (const [entity, prefixes] of OURS.table.packages) packages.set(entity, [...new Set([...prefixes, ...(packages.get(entity) ?? [])])]);
    this.#packages = packages;
  }

  /** `undefined`: the installed @ghostery/trackerdb; `none`: none; otherwise a trackerdb.json. */
  static #file: string | undefined;
  static #loading: Promise<void> | undefined;
  static #ready: EntityLookup | undefined;
  static #placed: ReadonlyMap<string, EntityInfo> = new Map();

  /** The company behind a host, or undefined (unknown, or the data still loading). */
  static of(host: string): EntityInfo | undefined {
    const key = entityHostKey(host);
    if (key === undefined) return undefined;
    // Only the demo places hosts: a capture's lookups skip this at the cost of a size check.
    if (EntityLookup.#placed.size > 0) {
      for (const suffix of domainSuffixes(key)) {
        const placed = EntityLookup.#placed.get(suffix);
        if (placed) return placed;
      }
    }
    return EntityLookup.#ready?.lookup(key);
  }

  /** Loads the data once per process (the --entities file when configured). */
  static shared(): Promise<void> {
    EntityLookup.#loading ??= (async () => {
      const configured = EntityLookup.#file;
      let theirs: SourcedTable | undefined;
      if (configured === 'none') {
        theirs = undefined;
      } else if (configured !== undefined && configured.trim().length === 0) {
        throw new ConfigError('--entities needs a trackerdb.json file, or none');
      } else if (configured !== undefined) {
        theirs = { table: await loadTrackerdbTable(configured, OURS.renamed), source: configured };
      } else {
        // Installed with --omit=optional: our own table answers alone.
        const installed = installedTrackerdbFile();
        theirs = installed === undefined ? undefined : { table: await loadTrackerdbTable(installed, OURS.renamed), source: TRACKERDB_SOURCE };
      }
      EntityLookup.#ready = new EntityLookup(theirs);
    })();
    return EntityLookup.#loading;
  }

  /**
   * Hosts whose company is given rather than looked up: the demo's `*.demo` servers, which play
   * real companies (and say they are simulated). Never set by a capture. Each host also covers
   * its subdomains.
   */
  static place(hosts: ReadonlyMap<string, EntityInfo>): void {
    const placed = new Map<string, EntityInfo>();
    for (const [host, info] of hosts) {
      const key = entityHostKey(host);
      if (key !== undefined) placed.set(key, info);
    }
    EntityLookup.#placed = placed;
  }

  /**
   * --entities FILE (a trackerdb.json of a newer release) or `none`; call before shared(). A later
   * call starts over: the next shared() loads what it names, and of() answers nothing until then.
   */
  static configure(file: string | undefined): void {
    EntityLookup.#file = file;
    EntityLookup.#loading = undefined;
    EntityLookup.#ready = undefined;
  }

  /** Package prefixes of the company's own apps (ours and, once loaded, trackerdb's). */
  static packagesOf(entity: string): readonly string[] {
    const ready = EntityLookup.#ready;
    return (ready ? ready.#packages : OURS.table.packages).get(entity) ?? [];
  }

  lookup(key: string): EntityInfo | undefined {
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    let info: EntityInfo | null = null;
    for (const suffix of domainSuffixes(key)) {
      const ours = OURS.table.domains.get(suffix);
      if (ours) {
        info = withFields(ours, { domain: suffix, source: OUR_SOURCE });
        break;
      }
      const theirs = this.#theirs?.table.domains.get(suffix);
      if (theirs) {
        info = withFields(theirs, { domain: suffix, source: this.#theirs!.source });
        break;
      }
    }
    if (this.#cache.size >= CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, info);
    return info ?? undefined;
  }
}

/** True when the app's package and the entity belong to the same company (the app's own vendor). */
export function isFirstParty(appId: string | undefined, entity: EntityInfo | undefined): boolean {
  if (appId === undefined || entity === undefined) return false;
  return packageUnderPrefixes(appId, entity.packages ?? EntityLookup.packagesOf(entity.entity));
}
