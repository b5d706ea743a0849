// The netfilter rules of the WireGuard mode, built as data (pure, tested without iptables) and
// applied with iptables. Every rule carries the comment `phonehome:<interface>`, so the rules of a
// run that was killed (kill -9) are found and removed by the next one, and nothing else is touched.
//
// What they do, for packets arriving from the tunnel interface:
// - UDP and TCP port 53 go to phonehome's DNS listener (REDIRECT; the TCP/53 rule comes before the
//   general TCP one), whatever resolver the app asked;
// - all other TCP goes to the transparent listener (REDIRECT keeps the original destination for
//   SO_ORIGINAL_DST);
// - UDP 443 (QUIC) is dropped, forwarded or addressed to us, so apps fall back to TCP; the DROP
//   rules count the packets;
// - the rest is forwarded and masqueraded when it leaves by another interface. The ACCEPT rules
//   are for hosts whose FORWARD or INPUT policy is DROP (Docker sets FORWARD to DROP).
// Rules are inserted at the top of their chains, in this order, so a host's own rules (an ACCEPT
// for UDP, a jump to Docker's chains) cannot come first.

import { runChecked, runCommand } from './system-command.js';

export type FirewallTable = 'nat' | 'filter';

export interface FirewallRule {
  readonly table: FirewallTable;
  readonly chain: string;
  /** The rule's match and target, as iptables arguments after the chain. */
  readonly spec: readonly string[];
}

export interface RedirectPorts {
  /** phonehome's transparent listener (TCP). */
  readonly tcp: number;
  /** phonehome's DNS listener (UDP, and TCP when it has one). */
  readonly dns: number;
}

/** The comment every rule of ours carries for this interface. */
export function firewallTag(interfaceName: string): string {
  return `phonehome:${interfaceName}`;
}

/** The rules for one tunnel interface, in the order they take at the top of each chain. */
export function redirectRules(interfaceName: string, subnet: string, ports: RedirectPorts): FirewallRule[] {
  for (const port of [ports.tcp, ports.dns]) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`not a port: ${port}`);
  }
  const tagged = (...spec: string[]): string[] => {
    const target = spec.indexOf('-j');
    return [...spec.slice(0, target), '-m', 'comment', '--comment', firewallTag(interfaceName), ...spec.slice(target)];
  };
  const fromTunnel = ['-i', interfaceName];
  return [
    { table: 'nat', chain: 'PREROUTING', spec: tagged(...fromTunnel, '-p', 'udp', '--dport', '53', '-j', 'REDIRECT', '--to-ports', String(ports.dns)) },
    { table: 'nat', chain: 'PREROUTING', spec: tagged(...fromTunnel, '-p', 'tcp', '--dport', '53', '-j', 'REDIRECT', '--to-ports', String(ports.dns)) },
    { table: 'nat', chain: 'PREROUTING', spec: tagged(...fromTunnel, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(ports.tcp)) },
    { table: 'nat', chain: 'POSTROUTING', spec: tagged('-s', subnet, '!', '-o', interfaceName, '-j', 'MASQUERADE') },
    { table: 'filter', chain: 'INPUT', spec: tagged(...fromTunnel, '-p', 'udp', '--dport', '443', '-j', 'DROP') },
    { table: 'filter', chain: 'INPUT', spec: tagged(...fromTunnel, '-p', 'tcp', '--dport', String(ports.tcp), '-j', 'ACCEPT') },
    { table: 'filter', chain: 'INPUT', spec: tagged(...fromTunnel, '-p', 'udp', '--dport', String(ports.dns), '-j', 'ACCEPT') },
    { table: 'filter', chain: 'INPUT', spec: tagged(...fromTunnel, '-p', 'tcp', '--dport', String(ports.dns), '-j', 'ACCEPT') },
    { table: 'filter', chain: 'FORWARD', spec: tagged(...fromTunnel, '-p', 'udp', '--dport', '443', '-j', 'DROP') },
    { table: 'filter', chain: 'FORWARD', spec: tagged(...fromTunnel, '-j', 'ACCEPT') },
    { table: 'filter', chain: 'FORWARD', spec: tagged('-o', interfaceName, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT') },
  ];
}

/**
 * `iptables` arguments that insert each rule at its place at the top of its chain (`-w`: wait for
 * the xtables lock instead of failing when another tool holds it).
 */
export function insertCommands(rules: readonly FirewallRule[]): string[][] {
  const positions = new Map<string, number>();
  return rules.map((rule) => {
    const key = `${rule.table} ${rule.chain}`;
    const position = (positions.get(key) ?? 0) + 1;
    positions.set(key, position);
    return ['-w', '-t', rule.table, '-I', rule.chain, String(position), ...rule.spec];
  });
}

export function deleteCommand(rule: FirewallRule): string[] {
  return ['-w', '-t', rule.table, '-D', rule.chain, ...rule.spec];
}

/** Splits an iptables-save line into arguments (it quotes comments: `--comment "phonehome:x"`). */
export function splitRuleLine(line: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let match = pattern.exec(line); match; match = pattern.exec(line)) {
    words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]!);
  }
  return words;
}

export interface SavedRule extends FirewallRule {
  /** Packets the rule matched (from `iptables-save -c`; 0 without counters). */
  readonly packets: number;
}

/** The rules in `iptables-save [-c]` output that carry exactly `tag` as their comment. */
export function taggedRules(saved: string, tag: string): SavedRule[] {
  const rules: SavedRule[] = [];
  let table: string | undefined;
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      continue;
    }
    const match = /^(?:\[(\d+):\d+\]\s+)?-A\s+(\S+)\s+(.*)$/.exec(line);
    if (!match || (table !== 'nat' && table !== 'filter')) continue;
    const spec = splitRuleLine(match[3]!);
    const comment = spec.indexOf('--comment');
    if (comment < 0 || spec[comment + 1] !== tag) continue;
    rules.push({ table, chain: match[2]!, spec, packets: Number(match[1] ?? 0) });
  }
  return rules;
}

async function savedRules(tag: string, table: FirewallTable): Promise<SavedRule[]> {
  return taggedRules(await runChecked('iptables-save', ['-c', '-t', table]), tag);
}

/** Removes every rule carrying the interface's tag; returns how many were removed. */
export async function removeTaggedRules(interfaceName: string): Promise<number> {
  const tag = firewallTag(interfaceName);
  let removed = 0;
  const failures: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    for (const rule of await savedRules(tag, table)) {
      const result = await runCommand('iptables', deleteCommand(rule));
      if (result.code === 0) removed += 1;
      else failures.push(result.stderr.trim().split('\n')[0] ?? `exit code ${result.code}`);
    }
  }
  if (failures.length > 0) throw new Error(`could not remove ${failures.length} iptables rule(s) tagged ${tag}: ${failures[0]}`);
  return removed;
}

/** Inserts the rules; on a failure, removes the ones already inserted and throws one line. */
export async function insertRules(interfaceName: string, rules: readonly FirewallRule[]): Promise<void> {
  try {
    for (const args of insertCommands(rules)) await runChecked('iptables', args);
  } catch (error) {
    await removeTaggedRules(interfaceName).catch(() => 0);
    throw error;
  }
}

/** Packets counted by the tagged UDP 443 DROP rules (QUIC kept from leaving). */
export async function countDroppedQuic(interfaceName: string): Promise<number> {
  const rules = await savedRules(firewallTag(interfaceName), 'filter');
  return rules
    .filter((rule) => rule.spec.at(-1) === 'DROP' && rule.spec.includes('udp') && rule.spec[rule.spec.indexOf('--dport') + 1] === '443')
    .reduce((sum, rule) => sum + rule.packets, 0);
}
