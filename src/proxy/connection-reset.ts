// A reset crosses as a reset. A server that resets its connection (it crashed, a firewall cut it,
// it would not go on) gives the device ECONNRESET direct: what came before was not all there was.
// Through phonehome the device met a clean close instead, which says the opposite: curl took a
// body the server's reset had cut for a whole one (exit 0 with the first bytes, where direct it
// says exit 56, "Connection reset by peer" after the same bytes), and so would any client of a
// body that runs until close, or of a stream (MQTT, IMAP) that tells a reset from a goodbye.
// Found on 2026-12-06 by a server that writes part of an HTTP/1.0 answer and resets.
//
// So the device's TCP connection is reset too, once what the server sent before its reset has
// been handed to the device's socket; the other way, a device's reset resets the server's
// connection. Under a TLS socket of ours (a connection we decrypt, maybe through the --pcap tap)
// it is the TCP socket beneath that is reset: the device's TLS stack reads ECONNRESET, as direct.

import net from 'node:net';
import type { Duplex } from 'node:stream';

/** Each stream of ours that sits on another (a TLS socket on the device's TCP socket, the --pcap tap): the one beneath. */
const beneath = new WeakMap<Duplex, Duplex>();

/** Says that `outer` carries its bytes over `inner` (a TLS socket of ours over the device's socket). */
export function layeredOver(outer: Duplex, inner: Duplex): void {
  beneath.set(outer, inner);
}

/** Device connections that their device reset, as the HTTP/1 parser heard (answerClientError). */
const resetByDevice = new WeakSet<Duplex>();

/** Says that the device reset `socket`; what it had begun to send is then cut by a reset upstream too. */
export function noteResetByDevice(socket: Duplex): void {
  resetByDevice.add(socket);
}

export function wasResetByDevice(socket: Duplex): boolean {
  return resetByDevice.has(socket);
}

/**
 * Whether an error is the peer's reset, as the socket read it. Node's HTTP client also says
 * ECONNRESET ("socket hang up", "aborted") for a server that closed cleanly too early; those
 * carry no errno, and are not resets.
 */
export function isReset(error: unknown): boolean {
  const { code, errno } = (error ?? {}) as { code?: string; errno?: number };
  return code === 'ECONNRESET' && typeof errno === 'number';
}

/**
 * Resets the TCP connection under `socket` (RST) once what was written to it has gone to the
 * kernel; a stream with no TCP connection beneath is destroyed as before.
 */
export function resetConnection(socket: Duplex): void {
  let tcp: Duplex = socket;
  // A connection that was ended already (our FIN went out) cannot be reset: libuv refuses, and
  // Node then never closes the socket. Said by whichever layer ended it.
  let ended = socket.writableEnded;
  for (let inner = beneath.get(tcp); inner; inner = beneath.get(tcp)) {
    tcp = inner;
    ended ||= tcp.writableEnded;
  }
  const reset = (): void => {
    if (!ended && tcp instanceof net.Socket && !tcp.destroyed) {
      try {
        tcp.resetAndDestroy();
      } catch {
        tcp.destroy(); // not a TCP handle after all (a pipe)
      }
    }
    socket.destroy();
    tcp.destroy();
  };
  // The bytes the server sent before its reset reach the device first, as direct.
  if (socket.writable && socket.writableLength > 0) socket.write(Buffer.alloc(0), reset);
  else reset();
}
