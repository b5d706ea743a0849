// Whose name a server's certificate must carry. Node checks it against the SNI we send, else the
// host we connect to. A device that gave no name — no SNI, and an address for its target
// (transparent and WireGuard modes, SOCKS or CONNECT by address) — leaves only an address there,
// which real certificates rarely name; the device itself checks a host name we never see (the one
// in its URL). So for such a connection we check the certificate's chain (rejectUnauthorized still
// applies) and leave the name to the device: its leaf carries exactly the server certificate's
// names (ca/leaf-shape.ts), so it accepts us where it would have accepted the server, and refuses
// us where it would have refused it.

import net from 'node:net';
import type tls from 'node:tls';

/**
 * tls.connect's `checkServerIdentity` for a connection to `host` with `servername` as its SNI:
 * one that checks no name when the device gave none (see above); undefined for Node's own check.
 */
export function identityCheckFor(host: string, servername: string | undefined): typeof tls.checkServerIdentity | undefined {
  return !servername && net.isIP(host) !== 0 ? checkNoName : undefined;
}

function checkNoName(): undefined {
  return undefined;
}
