// http://phonehome.cert/ — served by the proxy itself to its clients (like mitm.it), so a phone
// pointed at phonehome can fetch and install the CA without a cable.

import crypto from 'node:crypto';
import type http from 'node:http';
import type { CertificateAuthority } from './ca/certificate-authority.js';
import { serveWireguardPage } from './wireguard-page.js';
import type { WireguardInfo } from '../model/wireguard-info.js';

export const INSTALL_HOST = 'phonehome.cert';

export interface InstallPageOptions {
  /** The running WireGuard endpoint (--wireguard); absent, or undefined when called, when it is off. */
  readonly wireguard?: () => WireguardInfo | undefined;
  /**
   * False when the proxy asks for credentials (--proxy-auth) and this request brought none that
   * fit: the CA is public, the phones' WireGuard private keys are not.
   */
  readonly authorized?: boolean;
}

export function serveInstallPage(ca: CertificateAuthority, path: string, res: http.ServerResponse, options: InstallPageOptions = {}): void {
  const hashFile = ca.info().androidSystemFileName;
  const files: Record<string, { type: string; body: () => Buffer | string; name: string }> = {
    '/phonehome-ca.pem': { type: 'application/x-pem-file', body: () => ca.certPem, name: 'phonehome-ca.pem' },
    '/phonehome-ca.cer': { type: 'application/x-x509-ca-cert', body: () => ca.certDer(), name: 'phonehome-ca.cer' },
    '/phonehome-ca.p12': { type: 'application/x-pkcs12', body: () => ca.certP12(), name: 'phonehome-ca.p12' },
    [`/${hashFile}`]: { type: 'application/x-pem-file', body: () => ca.certPem, name: hashFile },
    '/phonehome-ca.mobileconfig': { type: 'application/x-apple-aspen-config', body: () => mobileconfig(ca), name: 'phonehome-ca.mobileconfig' },
  };
  const pathname = path.split('?')[0] ?? '/';
  if (pathname === '/wireguard' || pathname.startsWith('/wireguard/')) {
    serveWireguardPage(pathname, res, options.wireguard?.(), options.authorized ?? true);
    return;
  }
  const file = files[pathname];
  if (file) {
    const body = file.body();
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': Buffer.byteLength(body),
      'content-disposition': `attachment; filename="${file.name}"`,
      'cache-control': 'no-store',
    });
    res.end(body);
    return;
  }
  if (pathname !== '/') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Not found. See http://phonehome.cert/\n');
    return;
  }
  const info = ca.info();
  const wireguard = options.wireguard?.() ? '<h2>WireGuard</h2>\n<p><a class="b" href="/wireguard">The phones\' WireGuard configurations (QR codes)</a> — every app through phonehome, no proxy setting needed.</p>\n' : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>phonehome — install the lab CA</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:1em auto;padding:0 1em;line-height:1.45}
a.b{display:inline-block;margin:.2em 0;padding:.5em .8em;border:1px solid #333;border-radius:.3em;text-decoration:none}
code{word-break:break-all}</style></head><body>
<h1>phonehome lab CA</h1>
<p>This device is using the phonehome intercepting proxy. To let phonehome read HTTPS traffic, install and trust its certificate authority.
Only do this on a test device, and remove the CA after the lab run.</p>
<p>SHA-256 fingerprint: <code>${info.sha256Fingerprint}</code></p>
<h2>Android</h2>
<p><a class="b" href="/phonehome-ca.cer">Download phonehome-ca.cer</a></p>
<ol>
<li>Settings → Security → Encryption &amp; credentials → Install a certificate → <b>CA certificate</b>, pick the downloaded file.</li>
<li><b>Android 7 and later:</b> apps ignore user-installed CAs unless they opt in (network security config). Browsers and apps built for debugging will be decrypted; most other apps will show as <i>pinned</i> or fail — phonehome records that and passes them through.</li>
<li>To see every app (rooted test device), install the CA in the <b>system</b> store as <a href="/${info.androidSystemFileName}"><code>${info.androidSystemFileName}</code></a> in <code>/system/etc/security/cacerts/</code> (mode 644).</li>
<li><b>Android 14 and later:</b> system CAs come from the Conscrypt APEX (<code>/apex/com.android.conscrypt/cacerts</code>), which is read-only; writing <code>/system/etc/security/cacerts</code> is not enough. Mount the file over the APEX folder in each app's mount namespace (Magisk/KernelSU modules or a tmpfs bind mount do this).</li>
</ol>
<h2>iOS / iPadOS</h2>
<p><a class="b" href="/phonehome-ca.mobileconfig">Download the profile (phonehome-ca.mobileconfig)</a></p>
<ol>
<li>Open this page in <b>Safari</b>, download the profile, then Settings → General → VPN &amp; Device Management → <i>phonehome lab CA</i> → Install.</li>
<li>Then Settings → General → About → <b>Certificate Trust Settings</b> → turn on full trust for the phonehome lab CA. Without this step HTTPS is not trusted.</li>
</ol>
<h2>Other systems</h2>
<p><a class="b" href="/phonehome-ca.pem">PEM</a> <a class="b" href="/phonehome-ca.cer">DER (.cer)</a> <a class="b" href="/phonehome-ca.p12">PKCS#12 (.p12, certificate only, no password)</a></p>
${wireguard}</body></html>
`;
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store' });
  res.end(html);
}

/**
 * An Apple configuration profile with one payload: our CA as a trusted root
 * (com.apple.security.root). iOS still wants the "full trust" toggle turned on by hand afterwards.
 * Its UUIDs come from the CA's fingerprint, so every download of the same CA is the same profile.
 */
export function mobileconfig(ca: CertificateAuthority): string {
  const fingerprint = ca.info().sha256Fingerprint.replace(/:/g, '').toLowerCase();
  const uuid = (salt: string): string => {
    const hex = crypto.createHash('sha256').update(`${salt}:${fingerprint}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`.toUpperCase();
  };
  const der = ca.certDer().toString('base64').replace(/(.{64})/g, '$1\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>PayloadCertificateFileName</key>
      <string>phonehome-ca.cer</string>
      <key>PayloadContent</key>
      <data>
${der}
      </data>
      <key>PayloadDescription</key>
      <string>The phonehome lab CA, so the lab proxy can read this device's HTTPS traffic. Test devices only.</string>
      <key>PayloadDisplayName</key>
      <string>phonehome lab CA</string>
      <key>PayloadIdentifier</key>
      <string>cert.phonehome.ca.${fingerprint.slice(0, 16)}</string>
      <key>PayloadType</key>
      <string>com.apple.security.root</string>
      <key>PayloadUUID</key>
      <string>${uuid('certificate')}</string>
      <key>PayloadVersion</key>
      <integer>1</integer>
    </dict>
  </array>
  <key>PayloadDescription</key>
  <string>Installs the phonehome lab CA. After installing, turn on full trust in Settings, General, About, Certificate Trust Settings.</string>
  <key>PayloadDisplayName</key>
  <string>phonehome lab CA</string>
  <key>PayloadIdentifier</key>
  <string>phonehome.ca.${fingerprint.slice(0, 16)}</string>
  <key>PayloadRemovalDisallowed</key>
  <false/>
  <key>PayloadType</key>
  <string>Configuration</string>
  <key>PayloadUUID</key>
  <string>${uuid('profile')}</string>
  <key>PayloadVersion</key>
  <integer>1</integer>
</dict>
</plist>
`;
}
