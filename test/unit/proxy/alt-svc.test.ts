import t from 'tap';
import { withoutHttp3 } from '../../../src/proxy/layers/alt-svc.js';

// [what the server sent, what the device gets (undefined: no header)]
const rows: Array<[string, string | undefined]> = [
  ['h3=":443"; ma=86400', undefined],
  ['h3=":443"; ma=86400, h2=":443"', 'h2=":443"'],
  ['h2=":443", h3=":443"; ma=86400', 'h2=":443"'],
  ['h3=":443"; ma=2592000,h3-29=":443"; ma=2592000,h3-Q050=":443"; ma=2592000,h3-Q046=":443"; ma=2592000,quic=":443"; ma=2592000; v="46,43"', undefined],
  ['h3-29=":443"; ma=86400, h2="alt.example.com:443"; ma=3600; persist=1', 'h2="alt.example.com:443"; ma=3600; persist=1'],
  ['quic=":443"; ma=2592000; v="46,43", h2=":443"', 'h2=":443"'],
  ['hq-interop=":4433", h3=":4433"', undefined],
  ['H3=":443"', undefined],
  ['h3%2D29=":443", h2=":8443"', 'h2=":8443"'],
  // Left as they are: nothing over QUIC.
  ['clear', 'clear'],
  ['h2=":443"; ma=60', 'h2=":443"; ma=60'],
  ['h2="alt.example:443",  http%2F1.1="alt.example:80"', 'h2="alt.example:443",  http%2F1.1="alt.example:80"'],
  // Look-alikes: not the h3 protocol id.
  ['h3x=":443"', 'h3x=":443"'],
  ['h2="h3.example:443"', 'h2="h3.example:443"'],
  ['h2="h3.example:443"; ma=60, h3=":443"', 'h2="h3.example:443"; ma=60'],
  ['h2=":443"; note="h3=\\":443\\", quic"', 'h2=":443"; note="h3=\\":443\\", quic"'],
  ['h2=":443"; note="a, h3=x", h3=":443"', 'h2=":443"; note="a, h3=x"'],
  ['myh3=":443"', 'myh3=":443"'],
  // Garbage is not ours to fix.
  ['', ''],
  ['nonsense', 'nonsense'],
  [',,h3=":443",,', undefined],
];

for (const [sent, device] of rows) {
  t.test(`Alt-Svc: ${JSON.stringify(sent)}`, async (t) => {
    t.equal(withoutHttp3(sent), device);
  });
}

t.test('a value without QUIC alternatives is returned as the very same string', async (t) => {
  const value = 'h2=":443";ma=60 ,  h2="b.example:443"';
  t.equal(withoutHttp3(value), value);
});
