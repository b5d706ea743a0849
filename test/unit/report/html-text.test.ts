// Text from traffic on its way into the report: markup escaped, hidden characters made visible.

import t from 'tap';
import { escapeHtml, formatBytes, shown } from '../../../src/report/html-text.js';

t.test('markup and quotes are escaped; hidden characters are shown as \\uXXXX', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['a script tag', '<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['the end of the style element', '</style><b>', '&lt;/style&gt;&lt;b&gt;'],
    ['an attribute break-out', '" onmouseover="x', '&quot; onmouseover=&quot;x'],
    ['single quotes and ampersands', "Tom & Jerry's", 'Tom &amp; Jerry&#39;s'],
    ['a right-to-left override (exe.jpg shown for gpj.exe)', 'photo\u202Egpj.exe', 'photo\\u202egpj.exe'],
    ['zero-width space and joiner', 'pay\u200Bpal\u200D.com', 'pay\\u200bpal\\u200d.com'],
    ['a byte-order mark and isolates', '\uFEFFa\u2066b\u2069', '\\ufeffa\\u2066b\\u2069'],
    ['terminal escapes', '\u001b[2J', '\\u001b[2J'],
    ['plain text with accents and CJK stays as it is', 'Rendez-vous à 18h 你好', 'Rendez-vous à 18h 你好'],
    ['newlines stay (excerpts keep their lines)', 'a\nb', 'a\nb'],
  ];
  for (const [name, input, expected] of cases) t.equal(shown(input), expected, name);
  t.equal(shown(undefined), '', 'nothing is an empty string');
  t.equal(shown(42), '42', 'numbers are shown as text');
  t.equal(shown('x'.repeat(10), 4), 'xxxx…', 'long text is cut, and says so');
  t.equal(escapeHtml('<&>'), '&lt;&amp;&gt;');
});

t.test('byte counts read as people read them', async (t) => {
  const cases: Array<[number, string]> = [[0, '0 B'], [999, '999 B'], [1000, '1.0 kB'], [74_644, '74.6 kB'], [150_000, '150 kB'], [3_200_000, '3.2 MB'], [-5, '0 B'], [Number.NaN, '0 B']];
  for (const [bytes, text] of cases) t.equal(formatBytes(bytes), text, String(bytes));
});
