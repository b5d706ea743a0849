// A device's first bytes looked at where they wait, in the kernel, instead of read (native/socket-
// peek: recv with MSG_PEEK, and a poll handle on a descriptor of its own). Why it matters: a
// ClientHello read in JavaScript goes back to the TLS stack through TLSSocket's receive(), and
// Node's TLS input buffer keeps the size of that first small chunk for the whole connection, so a
// device's uploads were then read 1 and 16 KB at a time instead of up to 64 (four times the reads;
// on the bench's pipe relay 2.8 -> 3.7 ms of CPU per uploaded MB). Left in the kernel, the
// ClientHello is read by the TLS stack itself, like every byte after it.
//
// While a socket is peeked its Node handle does not read: `reading` stays set so that Node's own
// stream code does not start it again. Afterwards, whoever takes the socket either hands its
// handle to a TLSSocket (beforeTlsWrap(), then the TLS socket starts reading) or calls readAgain()
// to read it in JavaScript. Where the addon is not built (not Linux, no compiler) or the socket is
// not a plain TCP socket with nothing read ahead, peekSocket says no and the caller reads as
// before. A watched socket holds a second descriptor until its peek ends (at most the silence or
// the ClientHello timeout).

import { createRequire } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

/** native/socket-peek. A watch reads through a descriptor of its own, valid until unwatch. */
interface Addon {
  watch(fd: number, callback: (events: number) => void): object;
  peek(watch: object, max: number): Buffer | null;
  setLowWater(watch: object, bytes: number): void;
  unwatch(watch: object): void;
}

interface StreamHandle {
  fd?: number;
  reading?: boolean;
  readStart?: () => number;
  readStop?: () => number;
}

/** What the peek saw: the bytes waiting (a copy; they are still unread), and why it stopped. */
export interface PeekResult {
  readonly bytes: Buffer;
  /**
   * 'failed': the connection broke (reset by the device); the caller closes it. 'stopped': the
   * caller's signal ended the peek.
   */
  readonly outcome: 'enough' | 'silence' | 'timeout' | 'ended' | 'failed' | 'stopped';
}

export interface PeekOptions {
  /** True once the bytes seen are all the caller needs. */
  readonly enough: (bytes: Buffer) => boolean;
  /** How long the device may stay silent before anything arrives ('silence'). */
  readonly silenceMs: number;
  /** How long, once it has begun, the rest may take ('timeout'). */
  readonly restMs: number;
  /** The most bytes looked at. */
  readonly maxBytes: number;
  /** Ends the peek early ('stopped'), when something else has decided first. */
  readonly signal?: AbortSignal;
}

let addon: Addon | null | undefined;

function load(): Addon | undefined {
  if (addon === undefined) {
    try {
      // src/proxy and dist/proxy are both two folders below the installation.
      addon = process.platform === 'linux' ? (createRequire(import.meta.url)('../../native/socket-peek/build/Release/socket_peek.node') as Addon) : null;
    } catch {
      addon = null; // native/build.mjs said why at install; sockets are then read as before
    }
  }
  return addon ?? undefined;
}

/** Whether first bytes can be peeked here (Linux, the addon built for this Node). */
export function socketPeekAvailable(): boolean {
  return load() !== undefined;
}

/** Sockets peeked and not yet given back to Node's reading. */
const stopped = new WeakSet<Duplex>();

/** The TCP handle of a plain TCP socket (a TLS socket's handle reads decrypted bytes: not ours to peek). */
function handleOf(socket: Duplex): StreamHandle | undefined {
  if (!(socket instanceof net.Socket) || socket instanceof tls.TLSSocket) return undefined;
  return (socket as net.Socket & { _handle?: StreamHandle | null })._handle ?? undefined;
}

/**
 * Watches `socket` until `enough` says yes, the device stays silent or stops short, or the stream
 * ends; then calls `done` once (not after the socket closed). Returns false, and does nothing,
 * when this socket cannot be peeked: the caller reads it.
 */
export function peekSocket(socket: Duplex, options: PeekOptions, done: (result: PeekResult) => void): boolean {
  const native = load();
  const handle = handleOf(socket);
  const fd = handle?.fd;
  // A signal already given: nothing to watch for (the caller reads, and sees the signal there).
  if (!native || !handle || typeof fd !== 'number' || fd < 0 || !handle.readStop || !handle.readStart || socket.destroyed || socket.readableLength > 0 || options.signal?.aborted) return false;
  if (handle.readStop() !== 0) return false;
  let watch: object;
  try {
    watch = native.watch(fd, (events) => look(events));
  } catch {
    handle.readStart();
    return false;
  }
  // Node starts reading again whenever its stream wants data and thinks the handle idle.
  handle.reading = true;
  stopped.add(socket);
  let bytes: Buffer = Buffer.alloc(0);
  let finished = false;
  /** Ends the watch: at the peek's end, or when the socket closes first. */
  const stop = (): void => {
    finished = true;
    clearTimeout(timer);
    socket.off('close', stop);
    options.signal?.removeEventListener('abort', onAbort);
    native.unwatch(watch);
  };
  const finish = (outcome: PeekResult['outcome']): void => {
    if (finished) return;
    try {
      native.setLowWater(watch, 1);
    } catch {
      // the socket is gone; its reader will hear so
    }
    stop();
    if (!socket.destroyed) done({ bytes, outcome });
  };
  const onAbort = (): void => finish('stopped');
  let timer = setTimeout(() => finish('silence'), options.silenceMs);
  socket.once('close', stop);
  options.signal?.addEventListener('abort', onAbort);
  function look(events: number): void {
    if (finished) return;
    if (socket.destroyed) {
      // Closed by us (a stopping proxy) a moment ago: its 'close' is on the way.
      stop();
      return;
    }
    if (events < 0) {
      // An error is pending on the socket (a reset): libuv has stopped the watch already.
      finish('failed');
      return;
    }
    let seen: Buffer | null;
    try {
      seen = native!.peek(watch, options.maxBytes);
    } catch {
      finish('failed');
      return;
    }
    if (seen === null) return;
    if (seen.length === 0 || seen.length === bytes.length) {
      // The stream ended (no more can come): what came is all there is.
      finish('ended');
      return;
    }
    if (bytes.length === 0) {
      clearTimeout(timer);
      timer = setTimeout(() => finish('timeout'), options.restMs);
    }
    bytes = seen;
    if (options.enough(bytes) || bytes.length >= options.maxBytes) {
      finish('enough');
      return;
    }
    try {
      // Quiet until at least one more byte waits.
      native!.setLowWater(watch, bytes.length + 1);
    } catch {
      finish('failed'); // thrown here it would end the process: this runs from a libuv callback
    }
  }
  return true;
}

/** Lets Node read a peeked socket again in JavaScript (a no-op for any other socket). */
export function readAgain(socket: Duplex): void {
  if (!stopped.delete(socket)) return;
  const handle = handleOf(socket);
  if (handle?.readStart && !socket.destroyed) handle.readStart();
}

/**
 * Just before `new tls.TLSSocket(socket)`: the TLS socket copies the handle's `reading` flag and
 * starts the handle itself only when it is clear (a no-op for a socket not peeked).
 */
export function beforeTlsWrap(socket: Duplex): void {
  if (!stopped.delete(socket)) return;
  const handle = handleOf(socket);
  if (handle) handle.reading = false;
}
