// A server that refuses the TLS offer made on a device's behalf, and the same refusal said to the
// device. Before we answer a device's ClientHello we offer its server what the device offered
// (upstream-contexts.ts). A server that will not take that offer says so in one of four ways,
// each before any handshake of its own:
//   - an alert: no suite, signature scheme or version in common (handshake_failure,
//     protocol_version, insufficient_security), a name it does not serve (unrecognized_name), a
//     hello it cannot read;
//   - a reset: a server or a filter in front of it that will not serve that name or that hello
//     (SNI filtering, a firewall);
//   - a close without a word;
//   - silence: a server (or a filter) that takes the connection and never answers the hello.
// Direct, the device meets the same. Until 2026-12-07 it got our certificate instead, a handshake
// that succeeded and then a 502 for each request: BusyBox's TLS (no signature_algorithms, so SHA-1
// only) reached through us a server that refuses it direct, and a device that never gets through
// was recorded talking to its server, and what it then sent was recorded as leaving for a server
// it would never have reached. Now the device meets what we met: the server's alert, in clear and
// fatal, as a server sends one, then the connection closed; a reset; a close; or no answer, until
// the device gives up. A reset, a close or silence counts only when the server had sent nothing:
// one in the middle of a handshake the server began may be ours to cause. Pure.

import type { TlsVersionName } from './client-hello.js';

/** The alerts by which a server refuses what a ClientHello offers, by number (RFC 8446 §6.2, RFC 5246 §7.2.2). */
const REFUSING_ALERTS: ReadonlyMap<number, string> = new Map([
  [40, 'handshake failure'], [47, 'illegal parameter'], [50, 'decode error'], [70, 'protocol version'],
  [71, 'insufficient security'], [86, 'inappropriate fallback'], [112, 'unrecognized name'],
]);

/** The same, as Node names the error when it read the alert during its handshake. */
const ALERT_BY_CODE: ReadonlyMap<string, number> = new Map([
  ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 40], ['ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER', 47], ['ERR_SSL_TLSV1_ALERT_DECODE_ERROR', 50],
  ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 70], ['ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY', 71], ['ERR_SSL_TLSV1_ALERT_INAPPROPRIATE_FALLBACK', 86],
  ['ERR_SSL_TLSV1_UNRECOGNIZED_NAME', 112],
]);

/** The code of our own deadline on a server's handshake (upstream.ts); Node's server names its own so. */
export const HANDSHAKE_TIMEOUT = 'ERR_TLS_HANDSHAKE_TIMEOUT';

/** A server's refusal: its alert (number and name), its reset, its close, or its silence. */
export type ServerRefusal =
  | { readonly kind: 'alert'; readonly alert: number; readonly name: string }
  | { readonly kind: 'reset' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'silent' };

/**
 * How a server refused, read from the error of our handshake with it and `serverBytes`, what it
 * had sent by then: a refusing alert (Node's code, or OpenSSL's `SSL alert number N` where the
 * error came through a write, code EPROTO), or, from a server that sent nothing, a reset (an
 * errno ECONNRESET), a close (Node's ECONNRESET without an errno) or silence (our deadline,
 * `ERR_TLS_HANDSHAKE_TIMEOUT`, on a connection that opened). undefined for anything else: an alert
 * of another kind (a certificate one, no_application_protocol), one we sent, a reset, close or
 * deadline in a handshake the server began, a connection that never opened.
 */
export function serverRefusal(error: unknown, serverBytes: number | undefined): ServerRefusal | undefined {
  const { code, errno, message } = (error ?? {}) as { code?: unknown; errno?: unknown; message?: unknown };
  const codeText = typeof code === 'string' ? code : '';
  const fromMessage = /\bSSL alert number (\d{1,3})\b/.exec(typeof message === 'string' ? message : '')?.[1];
  const alert = ALERT_BY_CODE.get(codeText) ?? (fromMessage !== undefined ? Number(fromMessage) : undefined);
  const name = alert === undefined ? undefined : REFUSING_ALERTS.get(alert);
  if (alert !== undefined && name !== undefined) return { kind: 'alert', alert, name };
  if (serverBytes !== 0) return undefined;
  if (codeText === HANDSHAKE_TIMEOUT) return { kind: 'silent' };
  if (codeText !== 'ECONNRESET') return undefined;
  return typeof errno === 'number' ? { kind: 'reset' } : { kind: 'closed' };
}

/** What the record of a refused connection says of it, and its tag (`tls:server-alert-40`, `tls:server-reset`, `tls:server-closed`, `tls:server-silent`). */
export function describeRefusal(refusal: ServerRefusal): { readonly words: string; readonly tag: string } {
  switch (refusal.kind) {
    case 'alert':
      return { words: `with alert ${refusal.name} (${refusal.alert}); the device was sent the same alert`, tag: `tls:server-alert-${refusal.alert}` };
    case 'reset':
      return { words: 'by resetting the connection before any answer; the device\'s connection was reset too', tag: 'tls:server-reset' };
    case 'closed':
      return { words: 'by closing the connection without a word; the device\'s connection was closed too', tag: 'tls:server-closed' };
    case 'silent':
      return { words: 'by never answering it; the device was left waiting, as directly, until it gave up', tag: 'tls:server-silent' };
  }
}

/** The record version of an alert to a device whose newest version is `newest` (TLS 1.3 writes 1.2's). */
const RECORD_VERSION: Readonly<Record<TlsVersionName, number>> = { TLSv1: 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0303 };

/** A fatal alert record in clear, as a server sends one before its ServerHello. */
export function alertRecord(alert: number, newest: TlsVersionName | undefined): Buffer {
  const version = RECORD_VERSION[newest ?? 'TLSv1.2'];
  return Buffer.from([0x15, version >> 8, version & 0xff, 0x00, 0x02, 0x02, alert]);
}
