// SHOUTcast's status line. A SHOUTcast (v1) radio server answers `ICY 200 OK` where HTTP would say
// `HTTP/1.0 200 OK`, and the players of smart speakers and radio apps read it as HTTP/1.0: OkHttp
// does (so Android's ExoPlayer and the radio apps on it), as do VLC, mpv and curl (--http0.9).
// Node's parser does not (it knows HTTP/, RTSP/ and ICE/): the device got a 502 of ours, and its
// radio stayed silent only through phonehome.
//
// So a connection's first answer head is looked at before Node's parser reads it
// (answer-head-watch.ts): `ICY ` becomes `ICE/1.0 `, which the parser reads as version 1.0 (ICE
// is Icecast's old word for the same thing), and the device gets its status line back as the
// server wrote it (`ICY`). A SHOUTcast server answers once and closes, so only a connection's
// first answer is looked at.

/** How a SHOUTcast status line starts. */
export const ICY = 'ICY ';
const READ_BY_THE_PARSER_AS = 'ICE/1.0 ';

/** What a status line says its version is, as the device must read it: `ICY` for SHOUTcast's. */
export type StatusLineVersion = 'ICY' | `HTTP/${string}`;

/** Whether the bytes from `from` start a SHOUTcast status line. */
export function startsIcy(bytes: Buffer, from: number): boolean {
  return bytes.length - from >= ICY.length && bytes.toString('latin1', from, from + ICY.length) === ICY;
}

/** A SHOUTcast status line (it starts with ICY) as Node's parser reads it. */
export function icyAsTheParserReads(statusLine: string): string {
  return `${READ_BY_THE_PARSER_AS}${statusLine.slice(ICY.length)}`;
}
