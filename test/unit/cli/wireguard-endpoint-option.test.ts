// `phonehome wireguard config --endpoint`: what a user types becomes the HOST:PORT written into
// the phone's configuration, or a one-line error; nothing else can reach the file.

import t from 'tap';
import { parseEndpointOption } from '../../../src/cli/wireguard-command.js';
import { ConfigError } from '../../../src/util/errors.js';

t.test('accepted: names, IPv4, IPv6 with or without brackets, with or without a port (51820)', async (t) => {
  const rows: Array<[string, string]> = [
    ['192.0.2.10', '192.0.2.10:51820'],
    ['192.0.2.10:51821', '192.0.2.10:51821'],
    ['lab.example', 'lab.example:51820'],
    ['lab-1.example:443', 'lab-1.example:443'],
    ['2001:db8::1', '[2001:db8::1]:51820'],
    ['[2001:db8::1]', '[2001:db8::1]:51820'],
    ['[2001:db8::1]:4000', '[2001:db8::1]:4000'],
    ['::ffff:192.0.2.1', '[::ffff:192.0.2.1]:51820'],
  ];
  for (const [given, wanted] of rows) t.equal(parseEndpointOption(given), wanted, given);
});

t.test('refused in one line: empty, spaces, line breaks, ports out of range, brackets around a name, URLs', async (t) => {
  for (const given of ['', ' ', 'bad host', 'lab\nPostUp = rm -rf /', 'lab:0', 'lab:70000', 'lab:', ':51820', '[lab.example]:1', '[2001:db8::1', 'http://lab.example', 'lab.example/x', '-lab', 'lab:51820:1', 'a'.repeat(300)]) {
    let refusal: unknown;
    try {
      parseEndpointOption(given);
    } catch (error) {
      refusal = error;
    }
    t.ok(refusal instanceof ConfigError && !refusal.message.includes('\n') && refusal.message.startsWith('--endpoint '), JSON.stringify(given));
  }
});
