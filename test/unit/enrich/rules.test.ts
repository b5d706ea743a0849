import t from 'tap';
import path from 'node:path';
import { applyRules, loadRules, parseRulesFile } from '../../../src/enrich/rules.js';
import { globMatch } from '../../../src/enrich/glob.js';
import type { Finding } from '../../../src/model/finding.js';
import { installRoot } from '../../../src/util/install-paths.js';

function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    v: 1, id: 'f-1', time: '', flowId: 'fl-1', category: 'photo', severity: 'high', direction: 'request', detector: 'photo/jpeg', summary: 's',
    host: 'api.example.cn', client: { ip: '192.168.1.23' }, destination: { ip: '42.62.48.10', port: 443, country: 'CN', asn: 23724, org: 'IDC, China Telecommunications Corporation' },
    evidence: { path: ['body'], bytes: 1 }, details: {}, canary: null, ...overrides,
  };
}

const rules = parseRulesFile('lab.yaml', `rules:
  - name: home-fr
    home: [FR]
  - name: ignore-lab
    when: { host: "*.lab.example" }
    ignore: true
  - name: pinned-alibaba
    when: { category: tls-pinned, org: "Alibaba*" }
    severity: medium
  - name: responses-matter-from-cn
    when: { direction: response, country: [CN], asn: [23724] }
    severity: medium
`);

t.test('home countries: what leaves for another country becomes critical, and says which rule', async (t) => {
  t.match(applyRules(finding(), rules), { severity: 'critical', rules: ['home-fr'] });
  t.same(applyRules(finding({ destination: { ip: '1.2.3.4', country: 'FR', asn: 1, org: 'x' } }), rules), finding({ destination: { ip: '1.2.3.4', country: 'FR', asn: 1, org: 'x' } }), 'a home destination is untouched');
  t.equal(applyRules(finding({ destination: { ip: '192.168.1.1', country: null, asn: null, org: 'private network' } }), rules)?.severity, 'high', 'unknown countries are not raised');
  t.equal(applyRules(finding({ severity: 'info', category: 'opaque' }), rules)?.severity, 'critical');
});

t.test('ignore, conditions on organisation, direction and ASN', async (t) => {
  t.equal(applyRules(finding({ host: 'upload.lab.example' }), rules), undefined);
  t.match(applyRules(finding({ category: 'tls-pinned', severity: 'low', destination: { ip: '161.117.0.1', country: 'FR', asn: 45102, org: 'Alibaba (US) Technology Co., Ltd.' } }), rules), { severity: 'medium', rules: ['pinned-alibaba'] });
  // Rules apply in order and a later severity sets it: the more specific rule at the end wins.
  t.match(applyRules(finding({ direction: 'response', severity: 'low' }), rules), { severity: 'medium', rules: ['home-fr', 'responses-matter-from-cn'] });
});

t.test('errors name the file and line, and say what to write', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['rules:\n  - name: a\n    severity: extreme\n', /^x\.yaml:3: severity is one of info/],
    ['rules:\n  - name: a\n    when: { category: photos }\n    severity: high\n', /^x\.yaml:3: unknown category "photos"/],
    ['rules:\n  - name: a\n    when: { colour: red }\n    severity: high\n', /^x\.yaml:3: unknown condition "colour"/],
    ['rules:\n  - name: a\n', /^x\.yaml:2: rule a does nothing/],
    ['rules:\n  - name: a\n    home: [France]\n', /^x\.yaml:3: home takes ISO 3166/],
    ['rules:\n  - { name: a, severity: high }\n  - { name: a, severity: low }\n', /^x\.yaml:3: rule name a is used twice/],
    ['rules: [ { name: a\n', /^x\.yaml:\d+: /],
    ['- just a list\n', /^x\.yaml:1: expected a top-level "rules:" list/],
    ['rules:\n  - name: a\n    when: { asn: AS4808 }\n    severity: high\n', /^x\.yaml:3: asn takes AS numbers/],
  ];
  for (const [text, message] of cases) t.throws(() => parseRulesFile('x.yaml', text), message, text);
});

t.test('the shipped rules load and raise clear-text passwords and canaries', async (t) => {
  const shipped = loadRules(path.join(installRoot, 'rules'), true);
  t.ok(shipped.length >= 2);
  t.equal(applyRules(finding({ category: 'credential', detector: 'credential/smtp', severity: 'high' }), shipped)?.severity, 'critical');
  t.equal(applyRules(finding({ canary: 'lab-phone' }), shipped)?.severity, 'critical');
});

t.test('glob patterns match without regular expressions, in bounded time', async (t) => {
  t.ok(globMatch('*.apple.com', 'gsa.apple.com'));
  t.ok(globMatch('Alibaba*', 'alibaba (US) Technology'));
  t.ok(globMatch('a?c', 'abc'));
  t.notOk(globMatch('*.apple.com', 'apple.com.evil'));
  // A pathological pattern for backtracking regex engines stays fast here.
  const started = performance.now();
  t.notOk(globMatch(`${'*a'.repeat(30)}b`, 'a'.repeat(5000)));
  t.ok(performance.now() - started < 2000, `${Math.round(performance.now() - started)} ms`);
});

t.test('entity, purpose, app and first-party conditions: the company and the app behind a finding', async (t) => {
  const who = parseRulesFile('who.yaml', `rules:
  - name: analytics-abroad
    when: { purpose: [analytics, advertising], first-party: false }
    severity: critical
  - name: vendor-cloud-photos
    when: { entity: "Xiaomi*", category: photo, app: "com.miui.*" }
    severity: medium
`);
  const umeng = finding({ category: 'identifier', severity: 'medium', destination: { ip: '42.62.48.10', country: 'CN', asn: 1, org: 'x', entity: 'Umeng (Alibaba)', purpose: 'analytics' } });
  t.match(applyRules(umeng, who), { severity: 'critical', rules: ['analytics-abroad'] }, 'a third-party analytics company matches purpose and first-party: false');
  const own = finding({ category: 'identifier', severity: 'medium', destination: { ip: '1.1.1.1', entity: 'Google', purpose: 'analytics', firstParty: true } });
  t.equal(applyRules(own, who)?.severity, 'medium', 'the app\'s own vendor is not a third party');
  const gallery = finding({ app: { id: 'com.miui.gallery', confidence: 'high', evidence: 'X-Requested-With' }, destination: { ip: '1.1.1.1', entity: 'Xiaomi', purpose: 'vendor cloud', firstParty: true } });
  t.match(applyRules(gallery, who), { severity: 'medium', rules: ['vendor-cloud-photos'] });
  t.equal(applyRules(finding({ destination: { ip: '1.1.1.1', entity: 'Xiaomi', purpose: 'vendor cloud' } }), who)?.severity, 'high', 'no app: an app pattern does not match');
  t.equal(applyRules(finding(), parseRulesFile('any.yaml', 'rules:\n  - name: any-entity\n    when: { entity: "*" }\n    severity: low\n'))?.severity, 'high', 'an unknown company matches no pattern, not even *');
  t.throws(() => parseRulesFile('bad.yaml', 'rules:\n  - name: x\n    when: { first-party: maybe }\n    severity: low\n'), /bad\.yaml:3: first-party is true or false/);
  t.throws(() => parseRulesFile('bad.yaml', 'rules:\n  - name: x\n    when: { company: Umeng }\n    severity: low\n'), /unknown condition "company" \(use .*entity, purpose, app, first-party/);
});
