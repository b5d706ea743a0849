// The terminal drawing's edges, one step either side (issue #23, planted bugs that survived): byte
// counts switching unit at exactly 1,024 and 1,048,576 (and losing the decimal at 10 k), a flow's
// time as HH:MM:SS, its tags or "-" when it has none, the severity filter's two spellings.

import t from 'tap';
import { bannerLines, findingLine } from '../../src/sinks/console-sink.js';
import { TuiModel, bodyPreview, flowRow, parseFilter } from '../../src/sinks/tui/tui-model.js';
import { makeFinding } from '../helpers/runs.js';
import { makeFlow } from '../helpers/flows.js';

const model = () => new TuiModel({ capacity: 1000, proxyAddresses: ['192.168.1.5:8080'], insecureUpstream: false, redact: (f) => f });

/** The status line's "↑…" figure after one flow that sent `bytesUp` bytes. */
function sentShown(bytesUp: number): string {
  const m = model();
  m.addFlow(flowRow(makeFlow({ bytesUp })), '192.168.1.23');
  return /↑(\S+)/.exec(m.render(120, 24).header[1]!.text)?.[1] ?? '';
}

t.test('bytes sent in the status line change unit exactly at 1,024 and 1,048,576', async (t) => {
  const cases: Array<[number, string]> = [
    [0, '0'], [1023, '1023'], [1024, '1.0k'], [10_239, '10.0k'], [10_240, '10k'],
    [1_048_575, '1024k'], [1_048_576, '1.0M'], [5 * 1_048_576, '5.0M'],
  ];
  for (const [bytes, shown] of cases) t.equal(sentShown(bytes), shown, `${bytes} bytes`);
});

t.test("a flow's row shows the time it ended as HH:MM:SS", async (t) => {
  t.equal(flowRow(makeFlow({ endedAt: '2026-11-27T18:30:11.512Z' })).time, '18:30:11');
  t.equal(flowRow(makeFlow({ endedAt: '2026-11-27T07:05:09.000Z' })).time, '07:05:09');
});

t.test("a flow's detail lists its tags, or '-' when it has none", async (t) => {
  const tagsLine = (tags: string[]): string | undefined => flowRow(makeFlow({ tags })).detail.find((l) => l.startsWith('tags: '));
  t.match(tagsLine([]), /^tags: - {3}bytes up/);
  t.match(tagsLine(['decrypted']), /^tags: decrypted {3}bytes up/);
  t.match(tagsLine(['decrypted', 'websocket']), /^tags: decrypted websocket {3}bytes up/);
});

t.test('the severity filter is sev: or severity:, with a known severity only', async (t) => {
  t.equal(parseFilter('sev:high').severity, 'high');
  t.equal(parseFilter('severity:LOW').severity, 'low');
  t.equal(parseFilter('sev:bogus').severity, undefined);
  t.equal(parseFilter('seve:high').severity, undefined, 'a look-alike key is no severity');
  t.equal(parseFilter('cat:sms').category, 'sms');
  t.equal(parseFilter('category:').category, undefined, 'an empty category is none');
});

t.test('a binary body is drawn as a hex dump: offset of six, sixteen bytes in a column of 48, then the characters', async (t) => {
  const lines = bodyPreview(Buffer.from([...Array(18).keys()].map((i) => (i === 17 ? 0x41 : i))));
  t.same(lines, [
    `000000  ${[...Array(16).keys()].map((i) => i.toString(16).padStart(2, '0')).join(' ')}   ................`,
    `000010  10 41${' '.repeat(48 - 5)}  .A`,
  ]);
});

t.test("the console: a finding's time as HH:MM:SS; a wildcard listener is not given to the phone as an address", async (t) => {
  t.match(findingLine(makeFinding(1, { time: '2026-11-27T18:30:11.512Z' })), /(^|[^\d])18:30:11([^.\d]|$)/);
  for (const host of ['0.0.0.0', '::']) {
    const setting = bannerLines(host, 8080, undefined, 'ab:cd')[1]!;
    t.notMatch(setting, host === '::' ? '[::]:8080' : '0.0.0.0:8080', `${host}: the machine's own addresses instead`);
  }
  t.match(bannerLines('192.168.1.5', 8080, undefined, 'ab:cd')[1], 'device proxy setting: 192.168.1.5:8080');
  t.match(bannerLines('fe80::1', 8080, undefined, 'ab:cd')[1], 'device proxy setting: [fe80::1]:8080');
});
