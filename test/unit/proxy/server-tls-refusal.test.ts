// Which failed handshakes with a server are its refusal of the offer (the device is then sent the
// same alert), read from Node's errors; and the alert record a device is sent. No sockets.

import t from 'tap';
import { alertRecord, serverRefusal } from '../../../src/proxy/layers/server-tls-refusal.js';

const error = (code: string, message = code): Error => Object.assign(new Error(message), { code });

const rows: Array<[string, Error, { alert: number; name: string } | undefined]> = [
  ['handshake_failure, as Node names it', error('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'), { alert: 40, name: 'handshake failure' }],
  ['protocol_version', error('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'), { alert: 70, name: 'protocol version' }],
  ['insufficient_security', error('ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY'), { alert: 71, name: 'insufficient security' }],
  ['unrecognized_name (no ALERT in its code)', error('ERR_SSL_TLSV1_UNRECOGNIZED_NAME'), { alert: 112, name: 'unrecognized name' }],
  ['illegal_parameter', error('ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER'), { alert: 47, name: 'illegal parameter' }],
  ['through a write (EPROTO): OpenSSL\'s alert number', error('EPROTO', 'write EPROTO 80AC:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:rec_layer_s3.c:1601:SSL alert number 40'), { alert: 40, name: 'handshake failure' }],
  ['look-alike: a certificate alert (the server wanted one, or refused ours)', error('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'SSL alert number 42'), undefined],
  ['look-alike: certificate_required (TLS 1.3 mutual TLS)', error('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'SSL alert number 116'), undefined],
  ['look-alike: no_application_protocol (the ALPN, handled apart)', error('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL', 'SSL alert number 120'), undefined],
  ['look-alike: our own refusal of the server (it sent an old version)', error('ERR_SSL_UNSUPPORTED_PROTOCOL', 'unsupported protocol'), undefined],
  ['look-alike: a certificate that does not verify', error('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), undefined],
  ['look-alike: a reset', error('ECONNRESET', 'read ECONNRESET'), undefined],
  ['look-alike: a timeout', new Error('no TLS handshake within 10000 ms'), undefined],
  ['look-alike: a number in other words', error('EPROTO', 'SSL alert number 4000'), undefined],
];

for (const [name, failure, expected] of rows) {
  t.test(name, async (t) => {
    t.same(serverRefusal(failure), expected);
  });
}

t.test('the alert a device is sent: fatal, in clear, in a record of its newest version', async (t) => {
  t.same([...alertRecord(40, 'TLSv1.2')], [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40]);
  t.same([...alertRecord(70, 'TLSv1')], [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 70], 'an Android 4.4 device: a TLS 1.0 record');
  t.same([...alertRecord(40, 'TLSv1.3')], [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40], 'TLS 1.3 writes 1.2\'s record version');
  t.same([...alertRecord(112, undefined)], [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 112]);
});
