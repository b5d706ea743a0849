// The company behind a host and what its service does, from the tracker and company databases.

export interface EntityInfo {
  /** The company, as people know it: `Umeng (Alibaba)`, `Google`, `Xiaomi`. */
  readonly entity: string;
  /** What the service does: `analytics`, `advertising`, `crash reporting`, `push`, `vendor cloud`… */
  readonly purpose: string;
  /** The company's home country (ISO 3166-1 alpha-2), when the data gives it. */
  readonly country?: string;
  /** The domain that matched (`umeng.com` for `alog.umeng.com`). */
  readonly domain: string;
  /** Which data said so: `trackerdb` (Ghostery), `phonehome` (our mobile table), or the --entities file. */
  readonly source: string;
}

export class EntityLookup {
  /** The company behind a host, or undefined (unknown, or the data still loading). */
  static of(_host: string): EntityInfo | undefined {
    return undefined;
  }

  /** Loads the data once per process (the --entities file when configured). */
  static shared(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Hosts whose company is given rather than looked up: the demo's `*.demo` servers, which play
   * real companies (and say they are simulated). Never set by a capture.
   */
  static place(_hosts: ReadonlyMap<string, EntityInfo>): void {}

  /** --entities FILE (a trackerdb.json of a newer release) or `none`; call before shared(). */
  static configure(_file: string | undefined): void {}
}

/** True when the app's package and the entity belong to the same company (the app's own vendor). */
export function isFirstParty(_appId: string | undefined, _entity: EntityInfo | undefined): boolean {
  return false;
}
