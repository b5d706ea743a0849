// Network namespaces for the tests that need a real phone, gateway and cloud (transparent and
// WireGuard modes): made and removed here, so every such test builds the same three-namespace lab.
// Needs root and iproute2; callers skip with the reason when they are missing.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { getOriginCa } from './lab.js';

/** Runs a shell line; its stdout, or an error that names the line and says what went wrong. */
export function sh(command: string): string {
  const result = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command}: ${result.stderr.trim()}`);
  return result.stdout;
}

export function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

export interface Lab {
  readonly ns: { readonly phone: string; readonly gw: string; readonly cloud: string };
  /** Link names: the phone's end and the gateway's end of the phone's pair, the gateway's and the cloud's of the other. */
  readonly links: { readonly phone: string; readonly gwPhone: string; readonly gwCloud: string; readonly cloud: string };
  /** /24 addresses on those links, in the same order. */
  readonly addresses: { readonly phone: string; readonly gwPhone: string; readonly gwCloud: string; readonly cloud: string };
}

/** phone ⇄ gateway ⇄ cloud: three namespaces, two veth pairs, addresses up, loopback up. Routes are the caller's. */
export function makeLab(lab: Lab): void {
  const { ns, links, addresses } = lab;
  for (const name of Object.values(ns)) sh(`ip netns add ${name}`);
  sh(`ip link add ${links.phone} type veth peer name ${links.gwPhone}`);
  sh(`ip link set ${links.phone} netns ${ns.phone} && ip link set ${links.gwPhone} netns ${ns.gw}`);
  sh(`ip link add ${links.cloud} type veth peer name ${links.gwCloud}`);
  sh(`ip link set ${links.cloud} netns ${ns.cloud} && ip link set ${links.gwCloud} netns ${ns.gw}`);
  for (const [space, link, address] of [[ns.phone, links.phone, addresses.phone], [ns.gw, links.gwPhone, addresses.gwPhone], [ns.gw, links.gwCloud, addresses.gwCloud], [ns.cloud, links.cloud, addresses.cloud]] as const) {
    sh(`ip -n ${space} addr add ${address}/24 dev ${link} && ip -n ${space} link set ${link} up`);
  }
  for (const space of Object.values(ns)) sh(`ip -n ${space} link set lo up`);
}

/** Removes the namespaces (their links go with them); quiet when they are not there. */
export function removeLab(lab: Lab): void {
  for (const name of Object.values(lab.ns)) spawnSync('ip', ['netns', 'del', name]);
}

/** Waits until the child prints a line matching `pattern`; resolves with that match. */
export function waitForLine(child: ChildProcess, pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    child[stream]!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match) resolve(match);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}: ${text}`)));
  });
}

/**
 * The cloud's certificates for the fixtures in test/fixtures/netns (cloud.mjs): one for
 * cloud.example.test and one for its address (clients without SNI), from the tests' origin CA,
 * written to DIR/certs.json, with that CA in DIR/origin-ca.pem for `--upstream-ca`.
 */
export function writeCloudCertificates(dir: string, cloudIp: string): { certs: string; originCa: string } {
  const origin = getOriginCa();
  const named = origin.issueLeaf('cloud.example.test');
  const address = origin.issueLeaf(cloudIp);
  const certs = path.join(dir, 'certs.json');
  const originCa = path.join(dir, 'origin-ca.pem');
  fs.writeFileSync(certs, JSON.stringify({ names: { 'cloud.example.test': { key: named.keyPem, cert: named.certPem } }, address: { key: address.keyPem, cert: address.certPem } }));
  fs.writeFileSync(originCa, origin.certPem);
  return { certs, originCa };
}
