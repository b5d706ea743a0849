// Libraries that most runs never use are loaded the first time they are used, not with every
// capture: an idle capture that loaded them (in the proxy's thread and the inspection worker) held
// about 4-6 MB more resident memory (issue #24). The capture command's whole module graph is
// loaded here, with the inspector and every detector; none of these may be among what it loaded,
// whether by `import` (seen by a module hook) or by `require` (in require.cache).
// (That each still works when used is what the decoders' own tests and wireguard-qr.test.ts show.)

import { createRequire, register } from 'node:module';
import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import t from 'tap';

const require = createRequire(import.meta.url);
const lazyPackages = ['qrcode', 'sql.js', 'fzstd', 'fflate', '@msgpack/msgpack', 'exif-reader', 'image-size'];

// A module hook (it runs in the loader's own thread) reports every URL that `import` loads, and
// echoes 'flush' back so the test knows every report before it has arrived (a port keeps order).
const { port1, port2 } = new MessageChannel();
const imported: string[] = [];
port1.on('message', (message: string) => { if (message !== 'flush') imported.push(message); });
const hook = `let port;
export async function initialize(data) { port = data.port; port.on('message', (m) => port.postMessage(m)); port.unref(); }
export async function load(url, context, next) { port.postMessage(url); return next(url, context); }`;
register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { port: port2 }, transferList: [port2] });

async function reportsIn(): Promise<void> {
  port1.postMessage('flush');
  for (;;) {
    const [message] = (await once(port1, 'message')) as [string];
    if (message === 'flush') return;
  }
}

function loaded(name: string): boolean {
  const folder = `/node_modules/${name}/`;
  return imported.some((url) => url.includes(folder)) || Object.keys(require.cache).some((file) => file.includes(folder));
}

t.teardown(() => port1.close());

t.test('loading the capture command and the inspector loads none of them', async (t) => {
  await import('../../../src/cli/capture-command.js');
  await import('../../../src/inspect/inspector.js');
  await import('../../../src/inspect/detect/registry.js');
  await reportsIn();
  t.ok(imported.some((url) => url.includes('/node_modules/tldts/')), 'the hook sees what is imported (tldts, which detection always uses)');
  for (const name of lazyPackages) t.notOk(loaded(name), `${name} is not loaded`);
});

t.test('the first use loads one', async (t) => {
  const { terminalQr } = await import('../../../src/util/wireguard-qr.js');
  t.notOk(loaded('qrcode'));
  t.match(terminalQr('[Interface]\nAddress = 10.64.77.2/32\n'), /█/, 'a code is drawn');
  t.ok(loaded('qrcode'), 'loaded for the first code');
});
