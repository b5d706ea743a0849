// Where a redirected connection was going: asked of the kernel (SO_ORIGINAL_DST) through our small
// native addon (native/original-dst), built at install. Where it did not build, transparent mode
// says why in one line and everything else works.

import { createRequire } from 'node:module';
import type net from 'node:net';

interface Addon {
  originalDestination(fd: number, family: 4 | 6): { address: string; port: number };
}

let addon: Addon | undefined;
let unavailable: string | undefined;

function load(): Addon | undefined {
  if (addon || unavailable) return addon;
  if (process.platform !== 'linux') {
    unavailable = 'transparent mode needs Linux (the original destination comes from netfilter)';
    return undefined;
  }
  try {
    // src/proxy/modes and dist/proxy/modes are both three folders below the installation.
    addon = createRequire(import.meta.url)('../../../native/original-dst/build/Release/original_dst.node') as Addon;
  } catch (error) {
    unavailable = `the original-destination addon is not built (${(error as Error).message.split('\n')[0]}); build it with: node native/build.mjs (needs g++ and Node's headers)`;
  }
  return addon;
}

/** Why transparent mode cannot run here, or undefined when it can. */
export function transparentUnavailable(): string | undefined {
  load();
  return unavailable;
}

/** The original destination of a redirected socket; throws when the kernel has none (not redirected). */
export function originalDestination(socket: net.Socket): { host: string; port: number } {
  const native = load();
  if (!native) throw new Error(unavailable);
  const fd = (socket as net.Socket & { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the socket has no file descriptor');
  const local = socket.localAddress ?? '';
  const family = local.includes(':') && !local.startsWith('::ffff:') ? 6 : 4;
  const { address, port } = native.originalDestination(fd, family);
  return { host: address, port };
}
