import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { EntityLookup, isFirstParty } from '../../../src/enrich/entity/entity-lookup.js';
import { installedTrackerdbFile } from '../../../src/enrich/entity/trackerdb-table.js';
import { ConfigError } from '../../../src/util/errors.js';

// --entities FILE: a trackerdb.json of another release, in the shape the package ships
// (categories, organizations, patterns, domains, filters), cut down to a few rows.
const newerRelease = {
  categories: { advertising: { name: 'Advertising' }, site_analytics: { name: 'Site Analytics' }, brand_new: { name: 'New' } },
  organizations: {
    examplecorp: { name: 'Example Corp', country: 'FR', website_url: 'https://www.examplecorp.com/', privacy_policy_url: null },
    umeng: { name: 'Umeng', country: 'CN', website_url: 'https://www.umeng.com/' },
    nocountry: { name: 'No Country Ltd', country: null, website_url: 'not a url' },
  },
  patterns: {
    examplecorp_ads: { name: 'Example Ads', category: 'advertising', organization: 'examplecorp', domains: ['examplecorp.com', 'ex-ads.net'] },
    examplecorp_new: { name: 'Example New', category: 'brand_new', organization: 'examplecorp', domains: ['ex-new.io'] },
    cnzz: { name: 'Umeng', category: 'site_analytics', organization: 'umeng', domains: ['cnzz.com', 'umeng.com'] },
    xiaomi_stats: { name: 'Xiaomi Stats', category: 'site_analytics', organization: null, domains: ['stats.api.xiaomi.com'] },
    lonely: { name: 'Lonely Pixel', category: 'site_analytics', organization: 'nocountry', domains: ['lonely.example'] },
  },
  domains: {
    'examplecorp.com': 'examplecorp_ads',
    'ex-ads.net': 'examplecorp_ads',
    'ex-new.io': 'examplecorp_new',
    'cnzz.com': 'cnzz',
    'umeng.com': 'cnzz',
    'stats.api.xiaomi.com': 'xiaomi_stats',
    'lonely.example': 'lonely',
    'dangling.example': 'no_such_pattern',
    'not a domain/at all': 'lonely',
  },
  filters: { '||ex-ads.net^$3p': 'examplecorp_ads' },
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-entities-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, content: string): string => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
};
t.afterEach(() => EntityLookup.configure(undefined));

t.test('a newer release given with --entities replaces the installed one', async (t) => {
  const file = write('trackerdb.json', JSON.stringify(newerRelease));
  EntityLookup.configure(file);
  t.equal(EntityLookup.of('examplecorp.com'), undefined, 'nothing while loading');
  await EntityLookup.shared();
  t.match(EntityLookup.of('cdn.ex-ads.net'), { entity: 'Example Corp', purpose: 'advertising', country: 'FR', domain: 'ex-ads.net', source: file });
  t.match(EntityLookup.of('ex-new.io'), { purpose: 'misc' }, 'a category we do not know yet reads as misc');
  t.match(EntityLookup.of('lonely.example'), { entity: 'No Country Ltd', purpose: 'analytics' });
  t.equal(EntityLookup.of('lonely.example')?.country, undefined, 'no country when the data has none');
  t.equal(EntityLookup.of('dangling.example'), undefined, 'a domain without its pattern is skipped');
  t.equal(EntityLookup.of('www.google-analytics.com'), undefined, 'the installed release is not read');
  // Precedence: ours wins the tie on umeng.com; the file's longer row beats our xiaomi.com.
  t.match(EntityLookup.of('alog.umeng.com'), { entity: 'Umeng (Alibaba)', source: 'phonehome' });
  t.match(EntityLookup.of('s4.cnzz.com'), { entity: 'Umeng (Alibaba)', country: 'CN', source: file }, 'our name for a company we also list');
  t.match(EntityLookup.of('stats.api.xiaomi.com'), { entity: 'Xiaomi Stats', purpose: 'analytics', source: file });
  t.match(EntityLookup.of('api.xiaomi.com'), { entity: 'Xiaomi', purpose: 'vendor cloud', source: 'phonehome' });
  // A package prefix from the organization's website, because the file lists that domain as its.
  t.ok(isFirstParty('com.examplecorp.app', EntityLookup.of('ex-ads.net')));
  t.notOk(isFirstParty('com.examplecorpx.app', EntityLookup.of('ex-ads.net')));
});

const installed = installedTrackerdbFile();
t.test('a whole release file (what `npm pack @ghostery/trackerdb` unpacks) given with --entities', { skip: installed === undefined && '@ghostery/trackerdb is not installed (--omit=optional)' }, async (t) => {
  const file = installed!;
  EntityLookup.configure(file);
  await EntityLookup.shared();
  t.match(EntityLookup.of('www.google-analytics.com'), { entity: 'Google', purpose: 'analytics', source: file });
  t.match(EntityLookup.of('alog.umeng.com'), { entity: 'Umeng (Alibaba)', source: 'phonehome' });
});

t.test('--entities none: our table alone', async (t) => {
  EntityLookup.configure('none');
  await EntityLookup.shared();
  t.match(EntityLookup.of('alog.umeng.com'), { entity: 'Umeng (Alibaba)', source: 'phonehome' });
  t.equal(EntityLookup.of('www.google-analytics.com'), undefined);
  t.equal(EntityLookup.of('s4.cnzz.com'), undefined);
});

t.test('the installed release again after configure(undefined)', async (t) => {
  await EntityLookup.shared();
  t.match(EntityLookup.of('www.google-analytics.com'), { entity: 'Google', source: 'trackerdb' });
});

t.test('a bad file is one clear ConfigError naming it, from shared(), and nothing crashes', async (t) => {
  const cases: Array<[string, string | undefined, RegExp]> = [
    ['missing', undefined, /ENOENT/],
    ['corrupt.json', '{"domains": {"a.example": ', /not JSON/],
    ['array.json', '[1, 2, 3]', /not a trackerdb\.json/],
    ['wrong-shape.json', JSON.stringify({ domains: ['a.example'], patterns: {} }), /not a trackerdb\.json/],
    ['empty-object.json', '{}', /not a trackerdb\.json/],
    ['no-usable-domain.json', JSON.stringify({ domains: { 'a.example': 'nope' }, patterns: {} }), /no domain maps to a known pattern/],
    ['a-folder', '', /not a file/],
  ];
  for (const [name, content, why] of cases) {
    let file = path.join(dir, name);
    if (name === 'a-folder') fs.mkdirSync(file);
    else if (content !== undefined) file = write(name, content);
    EntityLookup.configure(file);
    const error = await EntityLookup.shared().then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(error, ConfigError, name);
    const message = (error as Error).message;
    t.ok(message.includes(file), `${name}: names the file`);
    t.match(message, why, `${name}: ${message}`);
    t.notMatch(message, /\n/, `${name}: one line`);
    t.equal(EntityLookup.of('alog.umeng.com'), undefined, `${name}: lookups answer nothing, and do not throw`);
  }
  EntityLookup.configure('');
  await t.rejects(EntityLookup.shared(), { name: 'ConfigError', message: /--entities needs a trackerdb\.json file, or none/ });
});
