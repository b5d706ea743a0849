// The blessed screen's edge, one step either side (issue #23, planted bugs that survived): 50x12 is
// the smallest terminal drawn; one column or one row less says it is too small. The findings pane
// is as tall as its rows and two borders, three at least, and the flows pane starts right under it.

import t from 'tap';
import { PassThrough } from 'node:stream';
import { TuiModel } from '../../src/sinks/tui/tui-model.js';
import { TuiScreen } from '../../src/sinks/tui/tui-screen.js';
import { makeFinding } from '../helpers/runs.js';

/** The screen's text at `columns` x `rows`, drawn on an in-memory terminal. */
function drawnAt(t: { teardown: (fn: () => void) => void }, columns: number, rows: number, findings = 0): string {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  const output = Object.assign(new PassThrough(), { isTTY: true, columns, rows });
  output.resume();
  const model = new TuiModel({ capacity: 100, proxyAddresses: ['192.168.1.5:8080'], insecureUpstream: false, redact: (f) => f });
  const screen = new TuiScreen(model, { input, output, colour: false, immediate: true, onQuit: () => undefined, onExport: () => '' });
  t.teardown(() => screen.destroy());
  for (let i = 1; i <= findings; i++) model.addFinding(makeFinding(i));
  if (findings > 0) screen.markDirty();
  const lines = (screen.screen as unknown as { lines: Array<Array<[unknown, string]>> }).lines;
  return lines.map((row) => row.map((cell) => cell[1]).join('').trimEnd()).join('\n');
}

t.test('50x12 is drawn; 49 columns or 11 rows are too small', async (t) => {
  const smallest = drawnAt(t, 50, 12);
  t.notMatch(smallest, /too small/);
  t.match(smallest, /phonehome/);
  t.match(drawnAt(t, 49, 12), /terminal too small \(49x12\)/);
  t.match(drawnAt(t, 50, 11), /terminal too small \(50x11\)/);
});

t.test('the flows pane starts right under the findings pane: three rows for none or one, two more per finding', async (t) => {
  const flowsRow = (findings: number): number => drawnAt(t, 80, 24, findings).split('\n').findIndex((l) => l.includes('Flows'));
  t.equal(flowsRow(0), 5, 'header, status, then a pane of 3');
  t.equal(flowsRow(1), 5, 'one finding: still 3');
  t.equal(flowsRow(3), 7, 'three findings: 5');
});
