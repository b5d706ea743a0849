// The blessed layer on an in-memory terminal: keys in as bytes, the screen read from its cells.

import t from 'tap';
import { PassThrough } from 'node:stream';
import { TuiModel } from '../../src/sinks/tui/tui-model.js';
import { TuiScreen } from '../../src/sinks/tui/tui-screen.js';
import type { Finding } from '../../src/model/finding.js';

function fakeTerminal(columns: number, rows: number) {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  const output = Object.assign(new PassThrough(), { isTTY: true, columns, rows });
  output.resume();
  return { input, output };
}

function screenText(screen: TuiScreen): string[] {
  const lines = (screen.screen as unknown as { lines: Array<Array<[unknown, string]>> }).lines;
  return lines.map((row) => row.map((cell) => cell[1]).join('').trimEnd());
}

const finding: Finding = {
  v: 1, id: 'f-1', time: '2026-11-27T18:30:11.000Z', flowId: 'fl-1', category: 'photo', severity: 'high', direction: 'request', detector: 'photo/jpeg',
  summary: 'JPEG camera photo 1600x1200, GPS 48.853 N 2.350 E', host: 'gallery.example.cn', client: { ip: '192.168.1.23' }, destination: { ip: '42.62.48.10', country: 'CN' },
  evidence: { path: ['body', 'multipart:file', 'image/jpeg'], bytes: 1 }, details: {}, canary: null,
};

t.test('paints findings at 80x24, opens the detail on enter, quits on Q', async (t) => {
  const { input, output } = fakeTerminal(80, 24);
  const model = new TuiModel({ capacity: 100, proxyAddresses: ['192.168.1.5:8080'], insecureUpstream: false, redact: (f) => f });
  let quit = false;
  const screen = new TuiScreen(model, { input, output, colour: false, immediate: true, onQuit: () => { quit = true; }, onExport: () => 'exported' });
  t.teardown(() => screen.destroy());
  model.addFinding(finding);
  screen.markDirty();
  const text = screenText(screen).join('\n');
  t.match(text, /phonehome {2}proxy: 192\.168\.1\.5:8080/);
  t.match(text, /HIGH +photo +CN gallery\.example\./, "host cut to fit, the country never");
  t.match(text, /\?:help/);
  input.write('\r');
  t.match(screenText(screen).join('\n'), /path: body > multipart:file > image\/jpeg/);
  input.write('\x1b');
  await new Promise((resolve) => setImmediate(resolve)); // blessed waits one tick to tell ESC from a sequence
  await new Promise((resolve) => setTimeout(resolve, 60));
  input.write('Q');
  t.ok(quit);
});

t.test('a terminal too small says so instead of drawing a broken layout', async (t) => {
  const { input, output } = fakeTerminal(40, 10);
  const model = new TuiModel({ capacity: 100, proxyAddresses: ['x'], insecureUpstream: false, redact: (f) => f });
  const screen = new TuiScreen(model, { input, output, colour: false, immediate: true, onQuit: () => undefined, onExport: () => '' });
  t.teardown(() => screen.destroy());
  t.match(screenText(screen).join('\n'), /terminal too small \(40x10\)/);
});
