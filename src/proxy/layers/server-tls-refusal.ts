// A server that refuses the TLS offer made on a device's behalf, and the same refusal said to the
// device. Before we answer a device's ClientHello we offer its server what the device offered
// (upstream-contexts.ts). A server that shares nothing with that offer refuses it with an alert:
// no suite, signature scheme or version in common (handshake_failure, protocol_version,
// insufficient_security), a name it does not serve (unrecognized_name), a hello it cannot read.
// Direct, the device gets that alert. Until 2026-12-07 it got our certificate instead, a
// handshake that succeeded and then a 502 for each request: BusyBox's TLS (no signature_algorithms,
// so SHA-1 only) reached through us a server that refuses it direct, and a device that never gets
// through was recorded talking to it. Now it is sent the server's alert, before any handshake of
// ours, as a server sends one: in clear, fatal, and the connection closed. Pure.

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

/** A server's refusal: its alert's number and name. */
export interface ServerRefusal {
  readonly alert: number;
  readonly name: string;
}

/**
 * The refusing alert a server sent, read from the error of our handshake with it: Node's code, or
 * OpenSSL's `SSL alert number N` (where the error came through a write, code EPROTO). undefined
 * for anything else: an alert of another kind (a certificate one, no_application_protocol), one
 * we sent, a reset, a timeout.
 */
export function serverRefusal(error: unknown): ServerRefusal | undefined {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const message = String((error as { message?: unknown } | null)?.message ?? '');
  const fromMessage = /\bSSL alert number (\d{1,3})\b/.exec(message)?.[1];
  const alert = ALERT_BY_CODE.get(code) ?? (fromMessage !== undefined ? Number(fromMessage) : undefined);
  const name = alert === undefined ? undefined : REFUSING_ALERTS.get(alert);
  return alert !== undefined && name !== undefined ? { alert, name } : undefined;
}

/** The record version of an alert to a device whose newest version is `newest` (TLS 1.3 writes 1.2's). */
const RECORD_VERSION: Readonly<Record<TlsVersionName, number>> = { TLSv1: 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0303 };

/** A fatal alert record in clear, as a server sends one before its ServerHello. */
export function alertRecord(alert: number, newest: TlsVersionName | undefined): Buffer {
  const version = RECORD_VERSION[newest ?? 'TLSv1.2'];
  return Buffer.from([0x15, version >> 8, version & 0xff, 0x00, 0x02, 0x02, alert]);
}
