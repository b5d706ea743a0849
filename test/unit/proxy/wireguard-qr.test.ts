// The QR codes of the phone's configuration decode back to exactly that configuration, with an
// independent decoder (jsQR), from the terminal's half blocks (quiet zone and all) and from the SVG.

import t from 'tap';
import { onBlack, svgQr, terminalQr } from '../../../src/util/wireguard-qr.js';
import { decodeModules, decodeTerminalQr, modulesOfSvgQr, modulesOfTerminalQr } from '../../helpers/qr-decode.js';

const KEY_A = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const KEY_B = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const CONFIG = `[Interface]\nPrivateKey = ${KEY_A}\nAddress = 10.64.77.2/32\nDNS = 10.64.77.1\n\n[Peer]\nPublicKey = ${KEY_B}\nAllowedIPs = 0.0.0.0/0, ::/0\nEndpoint = 192.168.178.123:51820\nPersistentKeepalive = 25\n`;

t.test('the terminal code decodes back to the configuration and fits 80 columns', async (t) => {
  const qr = terminalQr(CONFIG);
  const lines = qr.split('\n');
  t.ok(lines.every((l) => /^[ ▀▄█]+$/.test(l)), 'half blocks and spaces only, no escape codes');
  const width = [...lines[0]!].length;
  t.ok(lines.every((l) => [...l].length === width), 'a rectangle');
  t.ok(width <= 80, `${width} columns`);
  t.ok(lines.length <= 33, `${lines.length} lines`);
  t.equal(lines[0], '█'.repeat(width), 'a lit quiet zone on top (light modules are the lit ones)');
  t.equal(decodeTerminalQr(qr), CONFIG);
});

t.test('the lit cells are the light modules: read the other way round, the code is not found', async (t) => {
  const inverted = modulesOfTerminalQr(terminalQr(CONFIG).split('\n')).map((row) => row.map((light) => !light));
  t.equal(decodeModules(inverted), undefined);
});

t.test('onBlack paints every line white on black and keeps the characters', async (t) => {
  const qr = terminalQr('hello');
  const painted = onBlack(qr);
  t.equal(painted.split('\n').length, qr.split('\n').length);
  t.ok(painted.split('\n').every((l) => l.startsWith('\x1b[40;97m') && l.endsWith('\x1b[0m')));
  t.equal(painted.replace(/\x1b\[[\d;]*m/g, ''), qr);
});

t.test('the SVG decodes back to the configuration', async (t) => {
  const svg = svgQr(CONFIG);
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 \d+ \d+"/);
  t.notMatch(svg, /<script|<\?xml/);
  t.equal(decodeModules(modulesOfSvgQr(svg)), CONFIG);
});

t.test('a long configuration (several peers\' worth of text) still renders and decodes', async (t) => {
  const long = `${CONFIG}# ${'x'.repeat(400)}\n`;
  t.equal(decodeTerminalQr(terminalQr(long)), long);
  t.equal(decodeModules(modulesOfSvgQr(svgQr(long))), long);
});
