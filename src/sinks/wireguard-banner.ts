// What `capture --wireguard` prints at start, after the proxy's banner: where the phones connect,
// and per configured phone its name, tunnel address and configuration as a QR code to scan with
// the official WireGuard app, with the command that prints the same again later. Pure: the caller
// chooses how a QR code is drawn (plain half blocks, or painted white on black for a terminal).

import type { WireguardInfo } from '../model/wireguard-info.js';

/** A shell word for the hint line: bare when it is safe, else single-quoted. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/**
 * @param qr draws a configuration as terminal lines (e.g. terminalQr, or onBlack(terminalQr(…)))
 * @param caDir the CA folder when it is not the default, so the hint finds the same keys
 */
export function wireguardBanner(info: WireguardInfo, qr: (text: string) => string, caDir?: string): string[] {
  const lines = [`WireGuard: phones connect to ${info.endpoint} (UDP); in the WireGuard app tap +, "Scan from QR code"`];
  for (const client of info.clients) {
    lines.push(`  ${client.name}: tunnel address ${client.address}`, ...qr(client.config).split('\n'));
    lines.push(`  or: phonehome wireguard config --client ${shellWord(client.name)}${caDir ? ` --ca-dir ${shellWord(caDir)}` : ''}   (the .conf as text; also http://phonehome.cert/wireguard)`);
  }
  return lines;
}
