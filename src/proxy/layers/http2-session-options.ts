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

/** The initial values of the SETTINGS a session does not send (RFC 9113 §6.5.2), which Node leaves as they are. */
const INITIAL_SETTINGS = { headerTableSize: 4_096, initialWindowSize: 65_535, maxFrameSize: 16_384 } as const satisfies http2.Settings;

/** What a device is told of its connection at first: the initial values and our own limits (deviceSessionOptions). */
export const DEVICE_SETTINGS_AT_FIRST: Readonly<http2.Settings> = {
  ...INITIAL_SETTINGS, maxConcurrentStreams: deviceSessionOptions.settings.maxConcurrentStreams, maxHeaderListSize: deviceSessionOptions.settings.maxHeaderListSize, enableConnectProtocol: false,
};

/**
 * The SETTINGS to send a device, told `told` so far, once its server has sent `server`: the
 * server's own, so the device paces and spreads its streams as it would direct. OkHttp opens
 * another connection when a server's MAX_CONCURRENT_STREAMS is reached, so the server sees as many
 * connections as direct; a device sends as much before a WINDOW_UPDATE, frames as large and an
 * HPACK table as large. Bounded by ours where the device's use of them is our memory: no more
 * streams at once than we take, no larger head, a window and a table of at most
 * limits.h2MaxStreamWindowBytes and limits.h2MaxHeaderTableBytes. Extended CONNECT is allowed once
 * the server allows it, and never taken back (RFC 8441 §3). Only what changes: undefined for nothing.
 * Until 2026-12-07 a device was told Node's defaults whatever its server said (extended CONNECT aside).
 */
export function deviceSettingsToTell(told: Readonly<http2.Settings>, server: Readonly<http2.Settings>): http2.Settings | undefined {
  return changedSettings(told, {
    ...flowSettingsOf(server),
    maxConcurrentStreams: Math.min(server.maxConcurrentStreams ?? Infinity, limits.h2MaxConcurrentStreams),
    enableConnectProtocol: told.enableConnectProtocol === true || server.enableConnectProtocol === true,
  });
}

/** What a server is told of its connection at first: the initial values and ours (upstreamSessionOptions). */
export const SERVER_SETTINGS_AT_FIRST: Readonly<http2.Settings> = { ...INITIAL_SETTINGS, maxHeaderListSize: upstreamSessionOptions.settings.maxHeaderListSize };

/**
 * The SETTINGS to send a server, told `told` so far, once the device has sent `device`: the
 * device's stream window, frame size, HPACK table and header list, within the same bounds. The
 * server then sends as much before waiting for a WINDOW_UPDATE as it would to the device: with
 * Node's 64 KiB, a download from a server 50 ms away came at 0.8 MB/s where it came at 57 MB/s
 * direct, until 2026-12-07. (Push stays off: we refuse it.) Only what changes: undefined for nothing.
 */
export function serverSettingsToTell(told: Readonly<http2.Settings>, device: Readonly<http2.Settings>): http2.Settings | undefined {
  return changedSettings(told, flowSettingsOf(device));
}

/**
 * The connection window to give one side: the other's, so it may have as much in flight on the
 * connection as direct, at most limits.h2MaxConnectionWindowBytes (what a side that stops reading
 * can leave in our buffers); undefined when it is no larger than `given`.
 */
export function connectionWindowToGive(given: number, otherSide: number): number | undefined {
  const wanted = Math.min(otherSide, limits.h2MaxConnectionWindowBytes);
  return wanted > given ? wanted : undefined;
}

/** The settings of one side's flow and framing, as the other is told them (bounded where they are our memory). */
function flowSettingsOf(peer: Readonly<http2.Settings>): http2.Settings {
  return {
    headerTableSize: Math.min(peer.headerTableSize ?? INITIAL_SETTINGS.headerTableSize, limits.h2MaxHeaderTableBytes),
    initialWindowSize: Math.min(peer.initialWindowSize ?? INITIAL_SETTINGS.initialWindowSize, limits.h2MaxStreamWindowBytes),
    maxFrameSize: peer.maxFrameSize ?? INITIAL_SETTINGS.maxFrameSize,
    maxHeaderListSize: Math.min(peer.maxHeaderListSize ?? Infinity, limits.h2MaxHeaderListBytes),
  };
}

/** The settings of `wanted` that differ from `told`; undefined when none does. */
function changedSettings(told: Readonly<http2.Settings>, wanted: http2.Settings): http2.Settings | undefined {
  const changed: http2.Settings = {};
  let any = false;
  for (const name of Object.keys(wanted) as Array<keyof http2.Settings>) {
    if (wanted[name] === told[name]) continue;
    (changed as Record<string, unknown>)[name] = wanted[name];
    any = true;
  }
  return any ? changed : undefined;
}
