// SHOUTcast's status line. A SHOUTcast (v1) radio server answers `ICY 200 OK` where HTTP would say
// `HTTP/1.0 200 OK`, and the players of smart speakers and radio apps read it as HTTP/1.0: OkHttp
// does (so Android's ExoPlayer and the radio apps on it), as do VLC, mpv and curl (--http0.9).
// Node's parser does not (it knows HTTP/, RTSP/ and ICE/): the device got a 502 of ours, and its
// radio stayed silent only through phonehome.
//
// So the first bytes of the server's answer are looked at before Node's parser reads them: `ICY `
// becomes `ICE/1.0 `, which the parser reads as version 1.0 (ICE is Icecast's old word for the
// same thing), and the device gets its status line back as the server wrote it (`ICY`).

import type net from 'node:net';

const ICY = Buffer.from('ICY ', 'latin1');
const READ_BY_THE_PARSER_AS = Buffer.from('ICE/1.0 ', 'latin1');

/** What a status line says its version is, as the device must read it: `ICY` for SHOUTcast's. */
export type StatusLineVersion = 'ICY' | `HTTP/${string}`;

/**
 * Looks at the next bytes `socket` reads (the start of the server's answer to the request just
 * given it) before any listener does; when they start with `ICY `, the parser is given `ICE/1.0 `
 * in their place and `onIcy` is told. Only those bytes: the rest of the connection is untouched.
 */
export function readIcyStatusLine(socket: net.Socket, onIcy: () => void): void {
  // net.Socket hands what it reads to push(), which emits it: the parser listens to that.
  const own = socket as net.Socket & { push(chunk: unknown, encoding?: BufferEncoding): boolean };
  const inherited = !Object.hasOwn(socket, 'push');
  const push = own.push;
  own.push = function pushFirst(this: net.Socket, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (inherited) delete (own as Partial<typeof own>).push;
    else own.push = push;
    if (Buffer.isBuffer(chunk) && chunk.length >= ICY.length && chunk.subarray(0, ICY.length).equals(ICY)) {
      onIcy();
      return push.call(this, Buffer.concat([READ_BY_THE_PARSER_AS, chunk.subarray(ICY.length)]), encoding);
    }
    return push.call(this, chunk, encoding);
  };
}
