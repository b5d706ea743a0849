// The terminal's finding row at its edges (issue #23, planted bugs): the time as HH:MM:SS, the
// severity in a column of eight, the category in a column of ten, then the country in two.

import t from 'tap';
import type { Finding } from '../../src/model/finding.js';
import { TuiModel } from '../../src/sinks/tui/tui-model.js';
import { makeFinding } from '../helpers/runs.js';

const row = (overrides: Partial<Finding>): string => {
  const m = new TuiModel({ capacity: 10, proxyAddresses: ['192.168.1.5:8080'], insecureUpstream: false, redact: (f) => f });
  m.addFinding(makeFinding(1, { time: '2026-11-27T18:30:11.512Z', ...overrides }));
  return m.render(160, 24).findings[0]!.text;
};

t.test('time, severity, category and country keep their columns', async (t) => {
  t.match(row({ severity: 'high', category: 'sms' }), /^18:30:11 HIGH {5}sms {8}CN /);
  t.match(row({ severity: 'critical', category: 'identifier' }), /^18:30:11 CRITICAL identifier CN /, 'the longest of each fills its column exactly');
  t.match(row({ severity: 'low', category: 'photo', destination: { ip: '192.0.2.1', port: 443 } }), /^18:30:11 LOW {6}photo {6}-- /, 'no country: two dashes');
});
