// `phonehome demo`: the product at work without a phone. A local "cloud" (HTTPS with its own CA,
// trusted upstream like a real server), an SMTP server, and a simulated leaky phone that uploads a
// camera photo with GPS, SMS, a mail, contacts, its IMEI and its position, next to honest traffic
// and a pinned app — all through the proxy over real TLS on loopback. The phone speaks with the
// headers of a 2014 Redmi Note on MIUI (its Dalvik HTTP stack, a KitKat WebView, a gallery app
// naming its package, SDKs reporting the app they run in), so the demo's flows get an app the way
// a real phone's do; its servers play companies (demo-places.ts), marked as simulated.

import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import { CertificateAuthority } from '../proxy/ca/certificate-authority.js';
import { TunnelAgent, connectTunnel } from '../proxy/client/tunnel-agent.js';
import { describeError } from '../util/errors.js';
import { installRoot } from '../util/install-paths.js';
import { loopbackLookup } from '../util/loopback-lookup.js';
import { EntityLookup } from '../enrich/entity/entity-lookup.js';
import { demoAddressOf, demoAddresses, demoEntities } from './demo-places.js';

/** Names under .demo resolve to this machine (each to its placed address), for the proxy's upstream connections only. */
export const demoLookup = loopbackLookup('.demo', demoAddressOf);

/**
 * A server listening on 127.0.0.1 also answers on each placed address, at the same port: the
 * connections are handed to it as if it had accepted them.
 */
async function answerOnPlacedAddresses(server: net.Server): Promise<net.Server[]> {
  const port = (server.address() as net.AddressInfo).port;
  return Promise.all([...demoAddresses.keys()].map(async (address) => {
    const listener = net.createServer((socket) => server.emit('connection', socket));
    listener.listen(port, address);
    await once(listener, 'listening');
    return listener;
  }));
}

export interface DemoCloud {
  readonly httpsPort: number;
  readonly smtpPort: number;
  readonly caFile: string;
  readonly caPem: string;
  close(): void;
}

/** The cloud: one HTTPS server answering for every *.demo name, and an SMTP server; its hosts play companies until closed. */
export async function startDemoCloud(): Promise<DemoCloud> {
  // The servers are who the demo says they are for as long as they run (the entity lookup's other
  // data cannot know *.demo names), and nobody once they are gone.
  EntityLookup.place(demoEntities);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phonehome-demo-cloud-'));
  const ca = CertificateAuthority.loadOrCreate(path.join(dir, 'ca'));
  const contexts = new Map<string, tls.SecureContext>();
  const contextFor = (name: string): tls.SecureContext => {
    let context = contexts.get(name);
    if (!context) {
      const leaf = ca.issueLeaf(name);
      context = tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem });
      contexts.set(name, context);
    }
    return context;
  };
  const fallback = ca.issueLeaf('cloud.demo');
  const server = https.createServer({ key: fallback.keyPem, cert: fallback.certPem, SNICallback: (name, cb) => cb(null, contextFor(name)) }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url?.startsWith('/v1/config') ? JSON.stringify({ theme: 'dark', refresh: 3600, features: ['radar', 'alerts'] }) : '{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const smtp = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write('220 smtp.cloud.demo ESMTP\r\n');
    let inData = false;
    socket.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('latin1').split('\r\n').filter(Boolean)) {
        if (inData) {
          if (line === '.') { inData = false; socket.write('250 queued\r\n'); }
          continue;
        }
        if (line === 'DATA') { inData = true; socket.write('354 go ahead\r\n'); } else if (line === 'QUIT') socket.end('221 bye\r\n'); else socket.write('250 ok\r\n');
      }
    });
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp, 'listening');
  const placed = [...await answerOnPlacedAddresses(server), ...await answerOnPlacedAddresses(smtp)];
  const caFile = path.join(dir, 'cloud-ca.pem');
  fs.writeFileSync(caFile, ca.certPem);
  return {
    httpsPort: (server.address() as net.AddressInfo).port, smtpPort: (smtp.address() as net.AddressInfo).port, caFile, caPem: ca.certPem,
    close: () => { EntityLookup.place(new Map()); server.closeAllConnections(); server.close(); smtp.close(); for (const listener of placed) listener.close(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

export interface PhoneStep { readonly name: string; run(): Promise<void> }

/** The Redmi Note 1W on MIUI V5 (Android 4.4.2): what its HTTP stacks say they are. */
const REDMI = 'Linux; U; Android 4.4.2; HM NOTE 1W MIUI/V5.2.1.0.KHFCNCB';
/** Android's own HTTP stack (HttpURLConnection): the device and its OS, no app. */
const DALVIK_UA = `Dalvik/1.6.0 (${REDMI})`;
/** MIUI's gallery names itself and its version in front of the device. */
const GALLERY_UA = `com.miui.gallery/5.2.1 (${REDMI})`;
/** MIUI's cloud service, which syncs messages and contacts, names itself the same way. */
const CLOUD_SYNC_UA = `com.miui.cloudservice/1.3.2 (${REDMI})`;
/** KitKat's Chromium WebView; the app that embeds it adds X-Requested-With with its package. */
const WEBVIEW_UA = 'Mozilla/5.0 (Linux; Android 4.4.2; HM NOTE 1W Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/30.0.0.0 Mobile Safari/537.36';

/** The simulated phone's day: what it sends, in order. */
export function phoneSteps(proxyPort: number, proxyCaPem: string, cloud: DemoCloud): PhoneStep[] {
  const agent = new TunnelAgent(proxyPort, proxyCaPem, { maxSockets: 4 });
  const photo = fs.readFileSync(path.join(installRoot, 'assets', 'demo', 'IMG_20141012_183005.jpg'));
  const send = (host: string, pathname: string, body: string | Buffer, headers: Record<string, string>, method = 'POST'): Promise<void> => new Promise((resolve) => {
    const req = https.request({ host, port: cloud.httpsPort, path: pathname, method, agent, headers }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', () => resolve());
    req.end(body);
  });
  const boundary = 'phonehomeDemoBoundary';
  const upload = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="meta"\r\n\r\n{"album":"Camera"}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="IMG_20141012_183005.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`), photo, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const json = { 'content-type': 'application/json', 'user-agent': DALVIK_UA };
  return [
    { name: 'weather app fetches its config (honest)', run: () => send('config.weather.demo', '/v1/config', '', { 'user-agent': DALVIK_UA }, 'GET') },
    // An analytics SDK's event batch names the app it runs in, as Umeng's and Adjust's do.
    { name: 'analytics SDK in the weather app sends events (honest)', run: () => send('analytics.demo', '/events', JSON.stringify({ header: { package_name: 'com.miui.weather2', app_version: '8.0.1', sdk_version: '5.2.4', os: 'Android', os_version: '4.4.2' }, events: [{ name: 'screen_view', from: 'home', to: 'settings', timestamp: Date.now() }] }), json) },
    { name: 'gallery shows its cloud album page in a WebView (honest)', run: () => send('gallery.cloud.demo', '/album/welcome.html', '', { 'user-agent': WEBVIEW_UA, 'x-requested-with': 'com.miui.gallery', accept: 'text/html' }, 'GET') },
    { name: 'gallery backup uploads a camera photo with GPS', run: () => send('gallery.cloud.demo', '/upload', upload, { 'content-type': `multipart/form-data; boundary=${boundary}`, 'user-agent': GALLERY_UA }) },
    { name: 'message sync uploads SMS', run: () => send('sync.cloud.demo', '/v2/sms', JSON.stringify({ device: 'redmi', messages: [{ address: '+33612345678', body: 'Rendez-vous demain à 18h devant la gare', date: 1413131405000, type: 1, thread_id: 3 }, { address: '+33612345678', body: 'OK, à demain', date: 1413131505000, type: 2, thread_id: 3 }] }), { ...json, 'user-agent': CLOUD_SYNC_UA }) },
    { name: 'contact sync uploads the address book', run: () => send('sync.cloud.demo', '/v2/contacts', 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jean Dupont\r\nTEL;TYPE=CELL:+33 6 12 34 56 78\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Marie Curie\r\nEMAIL:marie@example.fr\r\nEND:VCARD\r\n', { 'content-type': 'text/vcard', 'user-agent': CLOUD_SYNC_UA }) },
    // A system service on Android's own HTTP stack: only its report's package field says which one.
    { name: 'system service reports the IMEI', run: () => send('stats.vendor.demo', '/report', JSON.stringify({ package: 'com.miui.daemon', imei: '353456789012348', model: 'Redmi Note', rom: 'MIUI 6' }), json) },
    // The weather app's ad SDK bids with the position; OpenRTB carries the app's package as app.bundle.
    { name: 'ad SDK in the weather app sends the position', run: () => send('ads.demo', '/bid', JSON.stringify({ app: { bundle: 'com.miui.weather2' }, device: { geo: { lat: 48.853012, lon: 2.349902 } } }), json) },
    { name: 'mail app sends a message over SMTP without TLS', run: () => sendMail(proxyPort, cloud.smtpPort) },
    { name: 'banking app with a pinned certificate (fails once, then passes through)', run: () => pinnedApp(proxyPort, cloud) },
  ];
}

async function sendMail(proxyPort: number, smtpPort: number): Promise<void> {
  const { socket } = await connectTunnel(proxyPort, `smtp.cloud.demo:${smtpPort}`);
  socket.on('error', () => undefined);
  let replies = '';
  socket.on('data', (c: Buffer) => { replies += c.toString(); });
  const waitFor = (count: number): Promise<void> => new Promise((resolve) => {
    const check = (): void => { if ((replies.match(/\r\n/g) ?? []).length >= count) resolve(); else socket.once('data', check); };
    check();
  });
  const lines = ['EHLO phone', `AUTH PLAIN ${Buffer.from('\0jane@example.com\0hunter2').toString('base64')}`, 'MAIL FROM:<jane@example.com>', 'RCPT TO:<bob@example.org>', 'DATA',
    'From: Jane <jane@example.com>\r\nTo: bob@example.org\r\nSubject: Rendez-vous demain\r\nDate: Sun, 12 Oct 2014 18:30:05 +0200\r\n\r\nA 18h devant la gare.\r\n.', 'QUIT'];
  await waitFor(1);
  for (const [i, line] of lines.entries()) {
    socket.write(`${line}\r\n`);
    await waitFor(i + 2);
  }
  socket.destroy();
}

async function pinnedApp(proxyPort: number, cloud: DemoCloud): Promise<void> {
  // The app trusts only its own server's CA: our certificate is refused, the app retries.
  const attempt = (): Promise<boolean> => new Promise((resolve) => {
    const agent = new TunnelAgent(proxyPort, cloud.caPem, { keepAlive: false });
    const req = https.request({ host: 'pinned.bank.demo', port: cloud.httpsPort, path: '/accounts', agent }, (res) => { res.resume(); res.on('end', () => resolve(true)); });
    req.on('error', () => resolve(false));
    req.end();
  });
  if (!(await attempt())) await attempt();
}

/** Runs the phone's steps with `paceMs` between them; `onStep` hears each one. */
export async function runPhone(steps: PhoneStep[], paceMs: number, onStep: (name: string, error?: string) => void, shouldStop: () => boolean = () => false): Promise<void> {
  for (const step of steps) {
    if (shouldStop()) return;
    try {
      await step.run();
      onStep(step.name);
    } catch (error) {
      onStep(step.name, describeError(error));
    }
    if (paceMs > 0) await new Promise((resolve) => setTimeout(resolve, paceMs));
  }
}
