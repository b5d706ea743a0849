import t from 'tap';
import { toDisplay } from '../../../src/util/sanitize.js';
import { redactText } from '../../../src/util/redact.js';

t.test('escape sequences and control characters never reach the terminal', async (t) => {
  const hostile = 'ok\u001b[2J\u001b]52;c;ZXZpbA==\u0007\u009b31m\u202eevil\r\nnext\u0000';
  const shown = toDisplay(hostile);
  t.notMatch(shown, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
  t.match(shown, /\\u001b\[2J/);
  t.match(shown, /next/);
});

t.test('long text is cut with an ellipsis', async (t) => {
  t.equal(toDisplay('a'.repeat(20), 5), 'aaaaa…');
});

t.test('redaction keeps the shape but not the value', async (t) => {
  t.equal(redactText('+33 6 12 34 56 78'), '+3# # ## ## ## ##');
  t.equal(redactText('Rendez-vous'), 'Re****-****');
});

t.test('redactFinding masks content in the summary, excerpt and details, not the technical facts', async (t) => {
  const { redactFinding } = await import('../../../src/util/redact.js');
  const finding = {
    v: 1 as const, id: 'f-1', time: '', flowId: 'fl-1', category: 'sms' as const, severity: 'high' as const, direction: 'request' as const, detector: 'sms/records',
    summary: "2 SMS with +33612…, 'Rendez-vous demain' from jane@example.com, GPS 48.853 N 2.350 E", host: 'h', client: { ip: '1.2.3.4' }, destination: {},
    evidence: { path: ['body'], bytes: 1, excerpt: '+33612345678: Rendez-vous demain' },
    details: { count: 2, records: [{ address: '+33612345678', body: 'Rendez-vous demain' }], gps: [48.853, 2.3499], make: 'Xiaomi' }, canary: null,
  };
  const out = redactFinding(finding);
  t.notMatch(JSON.stringify(out), /Rendez-vous|jane@|48\.853|612345678/);
  t.match(out.summary, /^2 SMS with \+33612…, 'Re\*\*\*\*-\*\*\*\* \*\*\*\*\*\*' from j\*\*\*@example\.com, GPS 48\.8 N 2\.3 E$/);
  t.same(out.details['gps'], [48.9, 2.3]);
  t.equal(out.details['make'], 'Xiaomi');
  t.equal(out.details['count'], 2);
});
