// SHOUTcast's status line. A SHOUTcast (v1) radio server answers `ICY 200 OK` where HTTP would say
// `HTTP/1.0 200 OK`, and the players of smart speakers and radio apps read it as HTTP/1.0: OkHttp
// does (so Android's ExoPlayer and the radio apps on it), as do VLC, mpv and curl (--http0.9).
// Node's parser does not (it knows HTTP/, RTSP/ and ICE/): the device got a 502 of ours, and its
// radio stayed silent only through phonehome.
//
// So the first bytes a server connection reads are looked at before Node's parser reads them:
// `ICY ` becomes `ICE/1.0 `, which the parser reads as version 1.0 (ICE is Icecast's old word for
// the same thing), and the device gets its status line back as the server wrote it (`ICY`). A
// SHOUTcast server answers once and closes, so only a connection's first answer is looked at.
//
// How: net.Socket hands what it reads to push(), which emits it to the parser. Each server
// connection gets its own push() once, when its first request is given it, and keeps it: a
// property added per request and deleted after turned every server socket into a slow
// dictionary object, about 30 µs more CPU per small request (measured with
// scripts/profile-capture.mjs).

import type net from 'node:net';

const ICY = Buffer.from('ICY ', 'latin1');
const READ_BY_THE_PARSER_AS = Buffer.from('ICE/1.0 ', 'latin1');

/** What a status line says its version is, as the device must read it: `ICY` for SHOUTcast's. */
export type StatusLineVersion = 'ICY' | `HTTP/${string}`;

const watched = new WeakSet<net.Socket>();
const answeredIcy = new WeakSet<net.Socket>();

type Pushing = net.Socket & { push(chunk: unknown, encoding?: BufferEncoding): boolean };

/** Looks at the first bytes `socket` reads, before any listener does (once per socket; later calls do nothing). */
export function watchForIcy(socket: net.Socket): void {
  if (watched.has(socket)) return;
  watched.add(socket);
  const own = socket as Pushing;
  const push = own.push;
  let first = true;
  own.push = function pushWatched(this: net.Socket, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (first && Buffer.isBuffer(chunk) && chunk.length > 0) {
      first = false;
      if (chunk.length >= ICY.length && chunk.subarray(0, ICY.length).equals(ICY)) {
        answeredIcy.add(this);
        return push.call(this, Buffer.concat([READ_BY_THE_PARSER_AS, chunk.subarray(ICY.length)]), encoding);
      }
    }
    return push.call(this, chunk, encoding);
  };
}

/** The version of an answer's status line as its server wrote it. */
export function statusLineVersion(response: { readonly httpVersion: string; readonly socket: net.Socket | null }): StatusLineVersion {
  return response.socket && answeredIcy.has(response.socket) ? 'ICY' : `HTTP/${response.httpVersion}`;
}
