// qrcode is loaded the first time a code is drawn, not with every capture: an idle capture that
// loaded it held 2-5 MB more resident memory (issue #24). The capture command's whole module graph
// is loaded here, and qrcode must not be among what it loaded until a code is asked for.

import { createRequire } from 'node:module';
import t from 'tap';

const require = createRequire(import.meta.url);
const qrcodeEntry = require.resolve('qrcode');

t.test('loading the capture command does not load qrcode; drawing a code does', async (t) => {
  await import('../../../src/cli/capture-command.js');
  const { terminalQr } = await import('../../../src/util/wireguard-qr.js');
  t.notOk(qrcodeEntry in require.cache, 'not loaded with the capture');
  t.match(terminalQr('[Interface]\nAddress = 10.64.77.2/32\n'), /█/, 'a code is drawn');
  t.ok(qrcodeEntry in require.cache, 'loaded for the first code');
});
