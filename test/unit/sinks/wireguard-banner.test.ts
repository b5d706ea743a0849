// The lines capture --wireguard prints at start: the endpoint, each phone with its QR code (which
// decodes to that phone's configuration) and the command that prints it again.

import t from 'tap';
import type { WireguardInfo } from '../../../src/model/wireguard-info.js';
import { onBlack, terminalQr } from '../../../src/util/wireguard-qr.js';
import { wireguardBanner } from '../../../src/sinks/wireguard-banner.js';
import { decodeTerminalQr } from '../../helpers/qr-decode.js';

const info: WireguardInfo = {
  interfaceName: 'phonehome-wg', endpoint: '192.168.1.20:51820', gateway: '10.64.77.1',
  clients: [
    { name: 'phone', address: '10.64.77.2', config: '[Interface]\nPrivateKey = one\nAddress = 10.64.77.2/32\n' },
    { name: 'tablet', address: '10.64.77.3', config: '[Interface]\nPrivateKey = two\nAddress = 10.64.77.3/32\n' },
  ],
};

t.test('endpoint first, then per phone its address, its QR code and the command', async (t) => {
  const lines = wireguardBanner(info, terminalQr);
  t.equal(lines[0], 'WireGuard: phones connect to 192.168.1.20:51820 (UDP); in the WireGuard app tap +, "Scan from QR code"');
  const tablet = lines.indexOf('  tablet: tunnel address 10.64.77.3');
  t.ok(lines.indexOf('  phone: tunnel address 10.64.77.2') > 0 && tablet > 0);
  t.equal(decodeTerminalQr(lines.slice(0, tablet).join('\n')), info.clients[0]!.config, "the phone's code");
  t.equal(decodeTerminalQr(lines.slice(tablet).join('\n')), info.clients[1]!.config, "the tablet's code");
  t.match(lines.at(-1)!, /^ {2}or: phonehome wireguard config --client tablet {3}\(the \.conf as text; also http:\/\/phonehome\.cert\/wireguard\)$/);
  t.equal(lines.filter((l) => l.includes('or: phonehome wireguard config')).length, 2);
});

t.test('the drawing is the caller\'s: painted codes keep their colours', async (t) => {
  const lines = wireguardBanner(info, (text) => onBlack(terminalQr(text)));
  t.ok(lines.some((l) => l.startsWith('\x1b[40;97m')));
  t.equal(decodeTerminalQr(lines.join('\n').replace(/\x1b\[[\d;]*m/g, '').split('  tablet')[0]!), info.clients[0]!.config);
});

t.test('a CA folder that is not the default goes into the hint, quoted for the shell when it must be', async (t) => {
  t.match(wireguardBanner(info, () => '', '/tmp/lab ca/it\'s').at(-1)!, /--client tablet --ca-dir '\/tmp\/lab ca\/it'\\''s' {3}/);
  t.match(wireguardBanner(info, () => '', '/srv/phonehome-ca').at(-1)!, /--client tablet --ca-dir \/srv\/phonehome-ca {3}/);
});
