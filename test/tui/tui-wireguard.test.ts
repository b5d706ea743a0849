// The terminal UI's `w` view: with WireGuard on, the endpoint and each phone's QR code, which
// decodes (read off the painted screen) to that phone's configuration; with it off, one line.

import t from 'tap';
import { PassThrough } from 'node:stream';
import type { WireguardInfo } from '../../src/model/wireguard-info.js';
import { commandFor, keymap } from '../../src/sinks/tui/keymap.js';
import { TuiModel } from '../../src/sinks/tui/tui-model.js';
import { TuiScreen } from '../../src/sinks/tui/tui-screen.js';
import { decodeTerminalQr } from '../helpers/qr-decode.js';

const KEY = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const config = (address: string): string => `[Interface]\nPrivateKey = ${KEY}\nAddress = ${address}/32\nDNS = 10.64.77.1\n\n[Peer]\nPublicKey = ${KEY}\nEndpoint = 192.168.1.20:51820\nAllowedIPs = 0.0.0.0/0, ::/0\nPersistentKeepalive = 25\n`;
const info: WireguardInfo = {
  interfaceName: 'phonehome-wg', endpoint: '192.168.1.20:51820', gateway: '10.64.77.1',
  clients: [{ name: 'phone', address: '10.64.77.2', config: config('10.64.77.2') }, { name: 'tablet', address: '10.64.77.3', config: config('10.64.77.3') }],
};

const model = (wireguard?: () => WireguardInfo | undefined) => new TuiModel({ capacity: 100, proxyAddresses: ['192.168.1.5:8080'], insecureUpstream: false, redact: (f) => f, ...(wireguard ? { wireguard } : {}) });

t.test('w is bound on the main screen and the detail, listed in the help, and scrolls like the other views', async (t) => {
  t.equal(commandFor('w', 'main'), 'wireguard');
  t.equal(commandFor('w', 'detail'), 'wireguard');
  t.equal(commandFor('j', 'wireguard'), 'down');
  t.equal(commandFor('escape', 'wireguard'), 'back');
  t.equal(commandFor('Q', 'wireguard'), 'quit');
  const m = model(() => info);
  m.command('help');
  t.ok(m.render(100, 40).overlay!.some((l) => /^w +WireGuard: the phones' QR codes and the endpoint/.test(l.text)), 'in the help');
  t.ok(keymap.some((b) => b.command === 'wireguard'));
});

t.test('with WireGuard on: the endpoint, each phone, its QR code whole and decodable, the command', async (t) => {
  const m = model(() => info);
  t.match(m.render(120, 40).hint.text, /E:events {2}w:WireGuard {2}Q:quit/, 'the hint line offers it');
  m.command('wireguard');
  t.equal(m.view, 'wireguard');
  const overlay = m.render(100, 80).overlay!;
  t.match(overlay[0]!.text, /^WireGuard: phones connect to 192\.168\.1\.20:51820 \(UDP\)/);
  const text = overlay.map((l) => l.text).join('\n');
  const tablet = text.indexOf('tablet: tunnel address 10.64.77.3');
  t.ok(text.includes('phone: tunnel address 10.64.77.2') && tablet > 0);
  t.equal(decodeTerminalQr(text.slice(0, tablet)), info.clients[0]!.config);
  t.equal(decodeTerminalQr(text.slice(tablet)), info.clients[1]!.config);
  t.ok(overlay.filter((l) => l.style === 'qr').every((l) => /^[ ▀▄█]+$/.test(l.text)), 'QR lines are painted as such and not padded or cut');
  t.match(text, /or: phonehome wireguard config --client tablet/);
  m.command('back');
  t.equal(m.view, 'main');
});

t.test('a short terminal scrolls the codes and says how tall a whole one needs; a narrow one says how wide', async (t) => {
  const m = model(() => info);
  m.command('wireguard');
  const first = m.render(100, 24).overlay!;
  t.equal(first.length, 23);
  t.match(first[1]!.text, /j\/k scroll; a terminal of \d+ lines shows a whole code at once/);
  m.command('page-down', 10);
  t.not(m.render(100, 24).overlay![0]!.text, first[0]!.text, 'page-down scrolls');
  m.command('bottom');
  t.match(m.render(100, 24).overlay!.map((l) => l.text).join('\n'), /--client tablet/);
  const narrow = m.render(50, 40).overlay!.map((l) => l.text).join('\n');
  t.match(narrow, /\(widen to \d+ columns for the QR code\)/);
  t.notMatch(narrow, /[▀▄█]/, 'no cut code that would not scan');
});

t.test('with WireGuard off: one line, and the view does not open', async (t) => {
  for (const m of [model(), model(() => undefined)]) {
    t.notMatch(m.render(120, 40).hint.text, /w:WireGuard/);
    m.command('wireguard');
    t.equal(m.view, 'main');
    t.equal(m.render(120, 40).hint.text.trim(), 'WireGuard is off (capture --wireguard)');
  }
});

function fakeTerminal(columns: number, rows: number) {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  const output = Object.assign(new PassThrough(), { isTTY: true, columns, rows });
  output.resume();
  return { input, output };
}

type Cells = Array<Array<[number, string]>>;

t.test('on a painted screen: w shows a code that decodes from the cells, white on black in colour', async (t) => {
  const { input, output } = fakeTerminal(100, 45);
  const m = model(() => ({ ...info, clients: [info.clients[0]!] }));
  const screen = new TuiScreen(m, { input, output, colour: true, immediate: true, onQuit: () => undefined, onExport: () => '' });
  t.teardown(() => screen.destroy());
  input.write('w');
  const lines = (screen.screen as unknown as { lines: Cells }).lines;
  const text = lines.map((row) => row.map((cell) => cell[1]).join('').trimEnd()).join('\n');
  t.match(text, /phone: tunnel address 10\.64\.77\.2/);
  t.equal(decodeTerminalQr(text), info.clients[0]!.config);
  const qrRow = lines.find((row) => row.some((cell) => cell[1] === '▀' || cell[1] === '▄'))!;
  const attr = qrRow.find((cell) => cell[1] === '█')![0];
  t.not(attr & 0x1ff, 0x1ff, 'a background colour is set');
  t.not((attr >> 9) & 0x1ff, 0x1ff, 'and a foreground colour');
});
