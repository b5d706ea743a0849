// Which failed handshakes with a server are its refusal of the offer (the device then meets the
// same), read from Node's errors and what the server had sent; the record's words; and the alert
// record a device is sent. No sockets.

import t from 'tap';
import { alertRecord, describeRefusal, serverRefusal, type ServerRefusal } from '../../../src/proxy/layers/server-tls-refusal.js';

const error = (code: string, message = code, errno?: number): Error => Object.assign(new Error(message), { code, ...(errno !== undefined ? { errno } : {}) });

const rows: Array<[string, Error, number | undefined, ServerRefusal | undefined]> = [
  ['handshake_failure, as Node names it', error('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'), 7, { kind: 'alert', alert: 40, name: 'handshake failure' }],
  ['protocol_version', error('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'), 7, { kind: 'alert', alert: 70, name: 'protocol version' }],
  ['insufficient_security', error('ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY'), 7, { kind: 'alert', alert: 71, name: 'insufficient security' }],
  ['unrecognized_name (no ALERT in its code)', error('ERR_SSL_TLSV1_UNRECOGNIZED_NAME'), 7, { kind: 'alert', alert: 112, name: 'unrecognized name' }],
  ['illegal_parameter', error('ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER'), 7, { kind: 'alert', alert: 47, name: 'illegal parameter' }],
  ['an alert after a ServerHello is the server\'s refusal all the same', error('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'), 1200, { kind: 'alert', alert: 40, name: 'handshake failure' }],
  ['through a write (EPROTO): OpenSSL\'s alert number', error('EPROTO', 'write EPROTO 80AC:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:rec_layer_s3.c:1601:SSL alert number 40'), undefined, { kind: 'alert', alert: 40, name: 'handshake failure' }],
  ['a reset before any answer (an errno ECONNRESET, nothing read)', error('ECONNRESET', 'read ECONNRESET', -104), 0, { kind: 'reset' }],
  ['a close before any answer (Node\'s ECONNRESET without an errno, nothing read)', error('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'), 0, { kind: 'closed' }],
  ['look-alike: a reset in a handshake the server began', error('ECONNRESET', 'read ECONNRESET', -104), 1200, undefined],
  ['look-alike: a close in a handshake the server began', error('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'), 90, undefined],
  ['look-alike: a reset whose bytes were not counted (a watched connection)', error('ECONNRESET', 'read ECONNRESET', -104), undefined, undefined],
  ['look-alike: a certificate alert (the server wanted one, or refused ours)', error('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'SSL alert number 42'), 7, undefined],
  ['look-alike: certificate_required (TLS 1.3 mutual TLS)', error('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'SSL alert number 116'), 40, undefined],
  ['look-alike: no_application_protocol (the ALPN, handled apart)', error('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL', 'SSL alert number 120'), 7, undefined],
  ['look-alike: our own refusal of the server (it sent an old version)', error('ERR_SSL_UNSUPPORTED_PROTOCOL', 'unsupported protocol'), 90, undefined],
  ['look-alike: a certificate that does not verify', error('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), 1200, undefined],
  ['look-alike: unreachable', error('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1', -111), 0, undefined],
  ['no answer by our deadline, on a connection that opened', error('ERR_TLS_HANDSHAKE_TIMEOUT', 'no TLS handshake within 15000 ms'), 0, { kind: 'silent' }],
  ['look-alike: our deadline on a connection that never opened (a SYN dropped)', error('ERR_TLS_HANDSHAKE_TIMEOUT', 'no TLS handshake within 15000 ms'), undefined, undefined],
  ['look-alike: our deadline in a handshake the server began (a slow server)', error('ERR_TLS_HANDSHAKE_TIMEOUT', 'no TLS handshake within 15000 ms'), 1200, undefined],
  ['look-alike: a deadline of another kind', new Error('no TLS handshake within 10000 ms'), 0, undefined],
  ['look-alike: a number in other words', error('EPROTO', 'SSL alert number 4000'), 7, undefined],
];

for (const [name, failure, bytes, expected] of rows) {
  t.test(name, async (t) => {
    t.same(serverRefusal(failure, bytes), expected);
  });
}

t.test('what the record says, and its tag', async (t) => {
  t.same(describeRefusal({ kind: 'alert', alert: 40, name: 'handshake failure' }), { words: 'with alert handshake failure (40); the device was sent the same alert', tag: 'tls:server-alert-40' });
  t.equal(describeRefusal({ kind: 'reset' }).tag, 'tls:server-reset');
  t.equal(describeRefusal({ kind: 'closed' }).tag, 'tls:server-closed');
  t.equal(describeRefusal({ kind: 'silent' }).tag, 'tls:server-silent');
});

t.test('the alert a device is sent: fatal, in clear, in a record of its newest version', async (t) => {
  t.same([...alertRecord(40, 'TLSv1.2')], [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40]);
  t.same([...alertRecord(70, 'TLSv1')], [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 70], 'an Android 4.4 device: a TLS 1.0 record');
  t.same([...alertRecord(40, 'TLSv1.3')], [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40], 'TLS 1.3 writes 1.2\'s record version');
  t.same([...alertRecord(112, undefined)], [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 112]);
});
