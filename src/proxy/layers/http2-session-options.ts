// The limits of phonehome's two kinds of HTTP/2 session, as large as Node can read. Node sends at
// most 64 KiB of head and reads 128 fields unless told otherwise: until 2026-12-07 an answer with
// 100 KiB of cookies, which curl and Chromium read direct, ended our connection with the device
// (GOAWAY), and a device's 100 KiB request head was refused. What limits a head now is Node's
// nine-frame guard (limits.h2MaxHeaderListBytes), which both sessions announce.

import type http2 from 'node:http2';
import { limits } from '../../limits.js';

/** A head as long as either side may send: it is what the other side sent, read whole. */
const anyHeadWeRead = { maxSendHeaderBlockLength: limits.http1MaxRequestHeadBytes, maxHeaderListPairs: limits.h2MaxHeaderListPairs };

/** The session that speaks to the device (http2-layer.ts): reads requests, sends answers. */
export const deviceSessionOptions = {
  ...anyHeadWeRead,
  settings: { enablePush: false, maxConcurrentStreams: limits.h2MaxConcurrentStreams, maxHeaderListSize: limits.h2MaxHeaderListBytes },
  maxSessionRejectedStreams: limits.h2MaxSessionRejectedStreams,
  maxSessionInvalidFrames: limits.h2MaxSessionInvalidFrames,
} satisfies http2.ServerOptions;

/** A session that speaks to a server (tls-layer.ts, layer-stack.ts): sends requests, reads answers. */
export const upstreamSessionOptions = {
  ...anyHeadWeRead,
  settings: { enablePush: false, maxHeaderListSize: limits.h2MaxHeaderListBytes },
} satisfies http2.ClientSessionOptions;
