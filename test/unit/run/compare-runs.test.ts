// compare's lines counted one by one (issue #23, planted bugs): the summary's count of new and
// gone destinations, apps and companies each counts its own kind and change only, and an app is
// described by its strongest attribution, the first of equals.

import t from 'tap';
import type { Finding } from '../../../src/model/finding.js';
import type { AppAttribution } from '../../../src/model/flow.js';
import { compareRuns } from '../../../src/run/compare.js';
import type { RunView } from '../../../src/run/run-view.js';
import { makeFinding } from '../../helpers/runs.js';

const app = (id: string, confidence: AppAttribution['confidence'], evidence: string): AppAttribution => ({ id, confidence, evidence });
const to = (entity: string, purpose?: string): Finding['destination'] => ({ ip: '192.0.2.1', port: 443, country: 'US', entity, ...(purpose ? { purpose } : {}) });
const view = (dir: string, findings: Finding[], hosts: string[]): RunView => ({
  dir,
  findings,
  destinations: new Map(hosts.map((host) => [host, { country: 'US', bytesUp: 10 }])),
});

// Every count differs from the others, so a count taken over the wrong kind or change shows.
const base = view('base', [
  makeFinding(1, { category: 'photo', host: 'both.example', app: app('com.both', 'high', 'package'), destination: to('BothCo') }),
  makeFinding(2, { category: 'identifier', host: 'gone1.example', evidence: { path: ['body'], bytes: 15, sha256: '1'.repeat(64) }, app: app('com.gone', 'medium', 'user-agent'), destination: to('GoneCo') }),
], ['both.example', 'gone1.example', 'gone2.example', 'gone3.example']);
const run = view('run', [
  makeFinding(3, { category: 'photo', host: 'both.example', app: app('com.both', 'high', 'package'), destination: to('BothCo') }),
  makeFinding(4, { severity: 'low', category: 'sms', host: 'new1.example', evidence: { path: ['body'], bytes: 5, sha256: '2'.repeat(64) }, app: app('com.new1', 'low', 'guess'), destination: to('NewCo1', 'analytics') }),
  makeFinding(5, { severity: 'critical', category: 'sms', host: 'new1.example', evidence: { path: ['body'], bytes: 6, sha256: '3'.repeat(64) }, app: app('com.new1', 'high', 'first high'), destination: to('NewCo1', 'ads') }),
  makeFinding(6, { severity: 'medium', category: 'sms', host: 'new2.example', evidence: { path: ['body'], bytes: 7, sha256: '4'.repeat(64) }, app: app('com.new1', 'high', 'second high'), destination: to('NewCo2') }),
  makeFinding(7, { category: 'contact', host: 'new2.example', evidence: { path: ['body'], bytes: 8, sha256: '5'.repeat(64) }, app: app('com.new2', 'medium', 'header'), destination: to('NewCo3') }),
  makeFinding(8, { category: 'contact', host: 'new2.example', evidence: { path: ['body'], bytes: 9, sha256: '6'.repeat(64) }, destination: to('NewCo4') }),
], ['both.example', 'new1.example', 'new2.example']);

t.test('the summary counts each kind and change on its own; the worst new severity wherever it comes', async (t) => {
  const lines = compareRuns(base, run);
  const summary = lines.at(-1)!;
  t.same(summary, {
    kind: 'summary', base: 'base', run: 'run',
    newDestinations: 2, goneDestinations: 3,
    newCategories: ['sms', 'contact'], goneCategories: ['identifier'],
    newFindings: 5, goneFindings: 1, worstNew: 'critical',
    newApps: 2, goneApps: 1,
    newEntities: 4, goneEntities: 1,
  });
});

t.test('the lines: destinations, categories, apps, companies, findings, new before gone', async (t) => {
  const lines = compareRuns(base, run);
  t.same(lines.filter((l) => l.kind === 'destination').map((l) => `${l.change} ${l.host}`), ['new new1.example', 'new new2.example', 'gone gone1.example', 'gone gone2.example', 'gone gone3.example']);
  t.same(lines.filter((l) => l.kind === 'category').map((l) => l.kind === 'category' && `${l.change} ${l.category} ${l.findings}`), ['new sms 3', 'new contact 2', 'gone identifier 1']);
  t.same(lines.filter((l) => l.kind === 'entity').map((l) => l.kind === 'entity' && `${l.change} ${l.entity} ${l.findings} ${l.purpose}`), ['new NewCo1 2 analytics', 'new NewCo2 1 null', 'new NewCo3 1 null', 'new NewCo4 1 null', 'gone GoneCo 1 null'], "a company's purpose is the first one named");
  t.same(lines.filter((l) => l.kind === 'finding').map((l) => l.kind === 'finding' && `${l.change} ${l.id}`), ['new f-000004', 'new f-000005', 'new f-000006', 'new f-000007', 'new f-000008', 'gone f-000002'], 'the same photo in both runs is neither');
});

t.test("an app is described by its strongest attribution; of two equally strong, the first", async (t) => {
  const apps = compareRuns(base, run).filter((l) => l.kind === 'app');
  t.same(apps.map((l) => l.kind === 'app' && [l.change, l.app, l.confidence, l.evidence, l.findings, l.categories, l.hosts]), [
    ['new', 'com.new1', 'high', 'first high', 3, ['sms'], ['new1.example', 'new2.example']],
    ['new', 'com.new2', 'medium', 'header', 1, ['contact'], ['new2.example']],
    ['gone', 'com.gone', 'medium', 'user-agent', 1, ['identifier'], ['gone1.example']],
  ]);
});

t.test('a run compared with itself: nothing new, nothing gone, no worst', async (t) => {
  t.same(compareRuns(run, run), [{
    kind: 'summary', base: 'run', run: 'run', newDestinations: 0, goneDestinations: 0, newCategories: [], goneCategories: [],
    newFindings: 0, goneFindings: 0, worstNew: null, newApps: 0, goneApps: 0, newEntities: 0, goneEntities: 0,
  }]);
});
