// The terminal drawing's edges, one step either side (issue #23, planted bugs that survived): byte
// counts switching unit at exactly 1,024 and 1,048,576 (and losing the decimal at 10 k), a flow's
// time as HH:MM:SS, its tags or "-" when it has none, the severity filter's two spellings.

import t from 'tap';
import { TuiModel, flowRow, parseFilter } from '../../src/sinks/tui/tui-model.js';
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
