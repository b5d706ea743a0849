// `phonehome transparent-rules --interface IF [--port N] [--undo]`: the commands that send a Linux
// hotspot's TCP to phonehome's --transparent listener, printed, never run (they change the
// machine's firewall; the user reads them and runs them as root). UDP 443 is dropped so apps fall
// back from QUIC to TCP, which phonehome can see.

import { ConfigError } from '../util/errors.js';

export const defaultTransparentPort = 8081;

/** Interface names are at most 15 characters of a small alphabet (IFNAMSIZ); nothing else reaches a shell line. */
export function validateInterface(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new ConfigError(`--interface ${JSON.stringify(name)}: use a network interface name such as wlan0 or ap0`);
  return name;
}

export function transparentRules(iface: string, port: number, undo: boolean): string[] {
  const add = undo ? '-D' : '-A';
  const lines = [
    `# phonehome transparent mode: ${undo ? 'remove the redirection of' : 'redirect'} the TCP of devices on ${iface} ${undo ? 'from' : 'to'} port ${port} (run as root)`,
    ...(undo ? [] : ['sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1']),
    `iptables -t nat ${add} PREROUTING -i ${iface} -p tcp -j REDIRECT --to-ports ${port}`,
    `ip6tables -t nat ${add} PREROUTING -i ${iface} -p tcp -j REDIRECT --to-ports ${port}`,
    '# QUIC (UDP 443) dropped, so apps fall back to TCP (HTTP/3 never reaches a TCP proxy)',
    `iptables ${add} FORWARD -i ${iface} -p udp --dport 443 -j DROP`,
    `ip6tables ${add} FORWARD -i ${iface} -p udp --dport 443 -j DROP`,
  ];
  if (!undo) {
    lines.push(
      `# then: phonehome capture --transparent 0.0.0.0:${port}   (devices on ${iface} need the CA installed, as in proxy mode)`,
      `# undo: phonehome transparent-rules --interface ${iface} --port ${port} --undo`,
    );
  }
  return lines;
}

/** The command: --interface and --port checked (one-line errors naming them), the lines printed. */
export function runTransparentRules(options: { interface?: string; port?: string; undo: boolean }, usage: string, out: (line: string) => void): number {
  if (typeof options.interface !== 'string') throw new ConfigError(`--interface is required (usage: ${usage})`);
  const portText = options.port ?? String(defaultTransparentPort);
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) throw new ConfigError(`--port ${JSON.stringify(portText)}: use a port number from 1 to 65535`);
  for (const line of transparentRules(validateInterface(options.interface), port, options.undo)) out(line);
  return 0;
}
