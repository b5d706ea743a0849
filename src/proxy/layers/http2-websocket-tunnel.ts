// Extended CONNECT over HTTP/2 (RFC 8441): a stream that becomes a tunnel for another protocol,
// which is how Chromium (so Chrome and Android's WebView) opens a WebSocket on an h2 connection
// whose server allows it. http2-layer.ts allows it to the device only when the device's server
// does, and gives such a stream here. The CONNECT goes to the server's session with the device's
// fields (:protocol and its Sec-WebSocket-* offer included), the server's answer comes back as it
// came, and from then on the stream's bytes pass both ways as they are: the device's masked frames
// reach the server as the device framed them, and a close frame is the other side's, never one of
// ours (as over HTTP/1.1: upgrade-relay.ts).
//
// For the record, a WebSocket's frames are only watched: a WebSocketFrameReader per direction
// turns them into messages, once the server's 2xx has said whether permessage-deflate was
// accepted. Bytes the device sent before that answer wait for its reader in a bounded list (past
// the bound they still go, unread, and the flow says so). Frames a reader cannot read stop the
// reading, never the tunnel. Any other :protocol is relayed the same way, as opaque bytes.

import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { acceptsDeflate, watchWebSocket, type WebSocketFrameReader } from '../../flow/websocket-frame-reader.js';
import { describeError } from '../../util/errors.js';
import type { ExchangeRecorder } from '../recorder/exchange-recorder.js';
import { relayBody } from './body-relay.js';
import { sendFields } from './http2-header-fields.js';
import { keepNothingAfterClose, openServerStream, passServerClose, recordServerAnswer, resetStream } from './http2-streams.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** Bytes the device may send before the server's answer that are kept for its reader. */
const EARLY_BYTES_READ = 256 * 1024;

/** Whether a session's peer allows extended CONNECT (its SETTINGS_ENABLE_CONNECT_PROTOCOL). */
export function allowsExtendedConnect(session: http2.Http2Session): boolean {
  return session.remoteSettings.enableConnectProtocol === true;
}

/** Relays one extended CONNECT stream of the device to `upstream`, which allows them; `deviceSocket` is the device connection the stream rides on. */
export function relayExtendedConnect(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[], upstream: http2.ClientHttp2Session, deviceSocket: Duplex, recorder: ExchangeRecorder, fail: (reason: string) => void): void {
  const upstreamStream = openServerStream(stream, headers, rawHeaders, upstream, { endStream: false }, recorder, fail);
  if (!upstreamStream) return;

  const webSocket = String(headers[':protocol']).toLowerCase() === 'websocket';
  let upReader: WebSocketFrameReader | undefined;
  let downReader: WebSocketFrameReader | undefined;
  let early: Buffer[] | undefined = webSocket ? [] : undefined;
  let earlyBytes = 0;

  // The device's bytes go at once, whatever the answer: as they would to the server direct.
  relayBody(stream, upstreamStream, (chunk) => {
    if (upReader) upReader.push(chunk);
    else if (early) {
      earlyBytes += chunk.length;
      if (earlyBytes <= EARLY_BYTES_READ) early.push(chunk);
      else {
        early = undefined;
        recorder.tag('websocket:frames-unread');
      }
    }
  });

  upstreamStream.on('response', (responseHeaders: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, _flags: number, raw: string[]) => {
    const status = recordServerAnswer(recorder, upstream, responseHeaders, raw);
    if (stream.destroyed || stream.closed) return;
    try {
      // sendDate: false: the device gets the server's fields, not a Date of ours.
      sendFields(responseHeaders, raw, (fields) => stream.respond(fields, { sendDate: false } as http2.ServerStreamResponseOptions));
    } catch (err) {
      fail(`response headers could not be relayed: ${describeError(err)}`);
      resetStream(stream, NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (webSocket && status >= 200 && status < 300) {
      const deflate = acceptsDeflate(responseHeaders['sec-websocket-extensions']);
      ({ fromClient: upReader, fromServer: downReader } = watchWebSocket(recorder, deflate));
      for (const chunk of early ?? []) upReader.push(chunk);
    }
    early = undefined;
    // A refusal's body is a body; an accepted tunnel's bytes are frames.
    relayBody(upstreamStream, stream, (chunk) => {
      if (downReader) downReader.push(chunk);
      else recorder.data(false, chunk);
    });
  });

  // RST_STREAM both ways, with the code the other side chose.
  upstreamStream.once('close', () => {
    keepNothingAfterClose(upstreamStream);
    if (!stream.closed) passServerClose(stream, upstreamStream, upstream, deviceSocket, recorder, fail);
  });
  stream.once('close', () => {
    const code = stream.rstCode ?? NGHTTP2_NO_ERROR;
    if (!upstreamStream.closed) upstreamStream.close(code === NGHTTP2_NO_ERROR ? NGHTTP2_CANCEL : code);
  });
}
