import t from 'tap';
import { classifyHandshakeError } from '../../../src/proxy/layers/tls-alerts.js';

const rows: Array<[string, string | undefined, boolean]> = [
  ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'tls:alert-48', true],
  ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'tls:alert-42', true],
  ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'tls:alert-46', true],
  ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'tls:alert-40', false],
  ['ECONNRESET', 'tls:reset', true],
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls:wrong-version-number', false],
  ['ERR_SSL_HTTP_REQUEST', 'tls:http-request', false],
  ['ERR_SSL_UNSUPPORTED_PROTOCOL', 'tls:unsupported-protocol', false],
  ['EPROTO', undefined, false],
];
for (const [code, tag, rejected] of rows) {
  t.test(code, async (t) => {
    const result = classifyHandshakeError(Object.assign(new Error('x'), { code }));
    t.equal(result.alertTag, tag);
    t.equal(result.certificateRejected, rejected);
    t.ok(result.reason.length > 0);
  });
}
