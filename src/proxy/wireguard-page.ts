// http://phonehome.cert/wireguard — the install page's WireGuard part: per configured phone its
// name, tunnel address, the configuration as a QR code (inline SVG, to scan from a laptop's
// screen with the WireGuard app) and as a .conf download (to import on the phone that opened the
// page). Only while a WireGuard endpoint runs (capture --wireguard).
//
// The configurations hold the phones' private keys. Serving them here is acceptable: the page is
// only reachable by devices the proxy already lets in (client access, and --proxy-auth when set,
// checked by the caller), which can already send everything through phonehome; it is only there
// with --wireguard on; and a key only lets a device into this lab's tunnel, which leads through
// phonehome like the proxy does. Responses are never cached.

import type http from 'node:http';
import { escapeHtml } from '../report/html-text.js';
import type { WireguardInfo } from '../model/wireguard-info.js';
import { svgQr } from '../util/wireguard-qr.js';

const CONF_PATH = /^\/wireguard\/([^/]+)\.conf$/;

function answerText(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${text}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/** `pathname` is `/wireguard` or below it. */
export function serveWireguardPage(pathname: string, res: http.ServerResponse, info: WireguardInfo | undefined, authorized: boolean): void {
  if (!info) {
    answerText(res, 404, 'WireGuard is off: start phonehome capture --wireguard to configure phones here. See http://phonehome.cert/');
    return;
  }
  if (!authorized) {
    answerText(res, 401, 'phonehome asks for the proxy credentials (--proxy-auth) before it shows WireGuard keys', { 'www-authenticate': 'Basic realm="phonehome"' });
    return;
  }
  if (pathname === '/wireguard' || pathname === '/wireguard/') {
    const html = wireguardPageHtml(info);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store' });
    res.end(html);
    return;
  }
  const wanted = CONF_PATH.exec(pathname)?.[1];
  let name: string | undefined;
  try {
    name = wanted === undefined ? undefined : decodeURIComponent(wanted);
  } catch { /* a broken %-escape names no client */ }
  const client = info.clients.find((c) => c.name === name);
  if (!client) {
    answerText(res, 404, `Not found. The configurations are listed on http://phonehome.cert/wireguard (clients: ${info.clients.map((c) => c.name).join(', ')})`);
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(client.config),
    // Client names are letters, digits, - and _ (validateClientName); encoded all the same.
    'content-disposition': `attachment; filename="${encodeURIComponent(client.name)}.conf"`,
    'cache-control': 'no-store',
  });
  res.end(client.config);
}

export function wireguardPageHtml(info: WireguardInfo): string {
  const clients = info.clients.map((client) => {
    const href = `/wireguard/${encodeURIComponent(client.name)}.conf`;
    return `<section>
<h2>${escapeHtml(client.name)}</h2>
<p>tunnel address <code>${escapeHtml(client.address)}</code></p>
<div class="qr">${svgQr(client.config)}</div>
<p><a class="b" href="${escapeHtml(href)}" download>Download ${escapeHtml(client.name)}.conf</a></p>
</section>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>phonehome — WireGuard</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:1em auto;padding:0 1em;line-height:1.45}
a.b{display:inline-block;margin:.2em 0;padding:.5em .8em;border:1px solid #333;border-radius:.3em;text-decoration:none}
.qr{max-width:22em;background:#fff}.qr svg{display:block;width:100%;height:auto}code{word-break:break-all}</style></head><body>
<h1>phonehome WireGuard</h1>
<p>Every app of a phone through phonehome, without a proxy setting: install the official <b>WireGuard</b> app, tap <b>+</b>,
then <b>Scan from QR code</b> and scan its code below from this screen (or, on the phone itself, download its <code>.conf</code> and import it from file).
Then switch the tunnel on. Install the phonehome CA as well (<a href="/">http://phonehome.cert/</a>) so HTTPS can be read.</p>
<p>endpoint <code>${escapeHtml(info.endpoint)}</code> (UDP) · DNS and gateway <code>${escapeHtml(info.gateway)}</code></p>
${clients}
</body></html>
`;
}
