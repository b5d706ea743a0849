// The install page's WireGuard part, through a real proxy on 127.0.0.1: the page lists every
// configured phone with its QR code (which decodes to its configuration) and a .conf download,
// only while WireGuard runs; names are escaped; with --proxy-auth the keys need the credentials.

import http from 'node:http';
import { once } from 'node:events';
import path from 'node:path';
import t from 'tap';
import { ProxyAuth } from '../../../src/proxy/access/proxy-auth.js';
import { wireguardInfo } from '../../../src/proxy/modes/wireguard/wireguard-config.js';
import type { WireguardInfo } from '../../../src/model/wireguard-info.js';
import { loadOrCreateWireguardKeys } from '../../../src/proxy/modes/wireguard/wireguard-keys.js';
import { httpViaProxy, startLab, tempDir } from '../../helpers/lab.js';
import { decodeModules, modulesOfSvgQr } from '../../helpers/qr-decode.js';

function realInfo(): WireguardInfo {
  const keys = loadOrCreateWireguardKeys(path.join(tempDir(), 'ca'), ['phone', 'tablet']);
  return wireguardInfo(keys, 'phonehome-wg', '192.168.1.20:51820');
}

/** A request to the proxy's own address, as a browser opening http://HOST:PORT/… sends it. */
async function direct(port: number, pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const req = http.request({ host: '127.0.0.1', port, path: pathname, headers, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
}

t.test('with WireGuard on: /wireguard shows each phone, its QR code decodes to its configuration, the .conf downloads', async (t) => {
  const info = realInfo();
  const lab = await startLab({ wireguard: () => info });
  t.teardown(() => lab.close());
  const page = await httpViaProxy({ proxyPort: lab.port, url: 'http://phonehome.cert/wireguard' });
  t.equal(page.status, 200);
  t.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  t.equal(page.headers['cache-control'], 'no-store');
  const html = page.body.toString();
  t.match(html, /<h2>phone<\/h2>/);
  t.match(html, /<h2>tablet<\/h2>/);
  t.match(html, /tunnel address <code>10\.64\.77\.2<\/code>/);
  t.match(html, /endpoint <code>192\.168\.1\.20:51820<\/code>/);
  const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
  t.equal(svgs.length, 2, 'one QR code per phone');
  t.same(svgs.map((svg) => decodeModules(modulesOfSvgQr(svg))), info.clients.map((c) => c.config), 'each decodes to its own configuration');
  t.match(html, /href="\/wireguard\/tablet\.conf" download/);

  const conf = await httpViaProxy({ proxyPort: lab.port, url: 'http://phonehome.cert/wireguard/tablet.conf' });
  t.equal(conf.status, 200);
  t.equal(conf.headers['content-disposition'], 'attachment; filename="tablet.conf"');
  t.equal(conf.headers['cache-control'], 'no-store');
  t.equal(conf.body.toString(), info.clients[1]!.config);
  t.match(conf.body.toString(), /^\[Interface\]\nPrivateKey = [A-Za-z0-9+/]{43}=\nAddress = 10\.64\.77\.3\/32\n/);

  const index = await httpViaProxy({ proxyPort: lab.port, url: 'http://phonehome.cert/' });
  t.match(index.body.toString(), /<a class="b" href="\/wireguard">/, 'the install page links to it');
  const opened = await direct(lab.port, '/wireguard/phone.conf');
  t.equal(opened.status, 200, 'also at the proxy\'s own address');
  t.equal(opened.body, info.clients[0]!.config);
});

t.test('look-alikes of a configuration path are 404 and name the clients', async (t) => {
  const lab = await startLab({ wireguard: realInfo });
  t.teardown(() => lab.close());
  for (const pathname of ['/wireguard/laptop.conf', '/wireguard/phone', '/wireguard/phone.conf/x', '/wireguard/%E0%A4%A.conf', '/wireguard/../phonehome-ca.pem.conf', '/wireguardx']) {
    const res = await direct(lab.port, pathname);
    t.equal(res.status, 404, pathname);
    if (pathname !== '/wireguardx') t.match(res.body, /clients: phone, tablet/, pathname);
  }
});

t.test('with WireGuard off: /wireguard is 404 with one line, and the install page has no link', async (t) => {
  for (const wireguard of [undefined, () => undefined]) {
    const lab = await startLab(wireguard ? { wireguard } : {});
    t.teardown(() => lab.close());
    for (const pathname of ['/wireguard', '/wireguard/phone.conf']) {
      const res = await httpViaProxy({ proxyPort: lab.port, url: `http://phonehome.cert${pathname}` });
      t.equal(res.status, 404);
      t.equal(res.body.toString(), 'WireGuard is off: start phonehome capture --wireguard to configure phones here. See http://phonehome.cert/\n');
    }
    const index = await httpViaProxy({ proxyPort: lab.port, url: 'http://phonehome.cert/' });
    t.equal(index.status, 200);
    t.notMatch(index.body.toString(), /\/wireguard/);
  }
});

t.test('names and addresses are escaped for HTML', async (t) => {
  const hostile: WireguardInfo = {
    interfaceName: 'phonehome-wg', endpoint: 'a<b>:51820', gateway: '10.64.77.1',
    clients: [{ name: '<img src=x onerror=alert(1)>"\'&', address: '<i>10.64.77.2</i>', config: '[Interface]\n' }],
  };
  const lab = await startLab({ wireguard: () => hostile });
  t.teardown(() => lab.close());
  const html = (await direct(lab.port, '/wireguard')).body;
  t.notMatch(html, /<img|<i>|a<b>/);
  t.match(html, /<h2>&lt;img src=x onerror=alert\(1\)&gt;&quot;&#39;&amp;<\/h2>/);
  t.match(html, /href="\/wireguard\/%3Cimg%20src%3Dx%20onerror%3Dalert\(1\)%3E%22&#39;%26\.conf"/);
  const conf = await direct(lab.port, `/wireguard/${encodeURIComponent(hostile.clients[0]!.name)}.conf`);
  t.equal(conf.status, 200);
  t.equal(conf.headers['content-disposition'], 'attachment; filename="%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%22\'%26.conf"', 'the file name cannot end the header\'s quotes');
});

t.test('with --proxy-auth, the keys need the credentials (the CA page does not)', async (t) => {
  const lab = await startLab({ wireguard: realInfo, auth: new ProxyAuth('lab:secret') });
  t.teardown(() => lab.close());
  const basic = `Basic ${Buffer.from('lab:secret').toString('base64')}`;
  const refused = await direct(lab.port, '/wireguard/phone.conf');
  t.equal(refused.status, 401);
  t.equal(refused.headers['www-authenticate'], 'Basic realm="phonehome"');
  t.notMatch(refused.body, /PrivateKey/);
  t.equal((await direct(lab.port, '/wireguard', { authorization: `Basic ${Buffer.from('lab:wrong').toString('base64')}` })).status, 401, 'wrong credentials');
  t.equal((await direct(lab.port, '/wireguard/phone.conf', { authorization: basic })).status, 200, 'Authorization, as a browser sends after the 401');
  t.equal((await direct(lab.port, '/wireguard', { 'proxy-authorization': basic })).status, 200);
  t.equal((await httpViaProxy({ proxyPort: lab.port, url: 'http://phonehome.cert/wireguard', headers: { 'proxy-authorization': basic } })).status, 200, 'through the proxy with its credentials');
  t.equal((await direct(lab.port, '/phonehome-ca.pem')).status, 200, 'the CA stays public');
});
