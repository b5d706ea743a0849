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
