// Names a failed TLS handshake with a client: which alert it sent, and whether that means the
// client refused our certificate (pinning, or a CA it does not trust).

const ALERT_NUMBERS: Record<string, number> = {
  HANDSHAKE_FAILURE: 40, BAD_CERTIFICATE: 42, UNSUPPORTED_CERTIFICATE: 43, CERTIFICATE_REVOKED: 44,
  CERTIFICATE_EXPIRED: 45, CERTIFICATE_UNKNOWN: 46, UNKNOWN_CA: 48, ACCESS_DENIED: 49, DECRYPT_ERROR: 51,
};

export interface HandshakeFailure {
  /** `tls:alert-48` when the client sent an alert; `tls:reset`, or the OpenSSL code (`tls:unsupported-protocol`), otherwise. */
  readonly alertTag?: string;
  /** The client refused our certificate (as opposed to garbage or a protocol mismatch). */
  readonly certificateRejected: boolean;
  readonly reason: string;
}

export function classifyHandshakeError(err: unknown): HandshakeFailure {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  const message = String((err as { message?: unknown } | null)?.message ?? err);
  const alert = /ALERT_([A-Z_]+)$/.exec(code);
  if (alert) {
    const name = alert[1]!; // ERR_SSL_TLSV1_ALERT_UNKNOWN_CA -> UNKNOWN_CA
    const number = ALERT_NUMBERS[name];
    const certificateAlert = number !== undefined && number !== 40 && number !== 51;
    return {
      alertTag: `tls:alert-${number ?? name.toLowerCase()}`,
      certificateRejected: certificateAlert,
      reason: `client sent TLS alert ${name.toLowerCase().replace(/_/g, ' ')}${number ? ` (${number})` : ''}`,
    };
  }
  if (code === 'ECONNRESET') return { alertTag: 'tls:reset', certificateRejected: true, reason: 'client reset the connection during the TLS handshake' };
  // Not an alert (an SSLv3 client, plain HTTP to a TLS port, garbage): the code as a tag too, so
  // nothing downstream reads the sentence (ERR_SSL_UNSUPPORTED_PROTOCOL -> tls:unsupported-protocol).
  const tag = /^ERR_SSL_[A-Z0-9_]{1,60}$/.test(code) ? `tls:${code.slice('ERR_SSL_'.length).toLowerCase().replace(/_/g, '-')}` : undefined;
  return { ...(tag ? { alertTag: tag } : {}), certificateRejected: false, reason: `TLS handshake failed: ${code ? `${code}: ` : ''}${message}`.replace(/\s+/g, ' ') };
}
