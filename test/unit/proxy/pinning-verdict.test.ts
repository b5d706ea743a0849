// Every way a decrypted connection can end, and whether it teaches us a "pinned" host.
import t from 'tap';
import { limits } from '../../../src/limits.js';
import { pinningVerdict, type ConnectionEnding } from '../../../src/proxy/pinning-verdict.js';

const alert = (code: string): Error => Object.assign(new Error(code), { code });

const rows: Array<[string, ConnectionEnding, boolean, readonly string[]]> = [
  ['alert unknown_ca (48) during the handshake', { stage: 'handshake', error: alert('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA') }, true, ['tls:alert-48']],
  ['alert bad_certificate (42)', { stage: 'handshake', error: alert('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE') }, true, ['tls:alert-42']],
  ['alert certificate_unknown (46)', { stage: 'handshake', error: alert('ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN') }, true, ['tls:alert-46']],
  ['alert unsupported_certificate (43)', { stage: 'handshake', error: alert('ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE') }, true, ['tls:alert-43']],
  ['alert certificate_expired (45)', { stage: 'handshake', error: alert('ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED') }, true, ['tls:alert-45']],
  ['alert access_denied (49)', { stage: 'handshake', error: alert('ERR_SSL_TLSV1_ALERT_ACCESS_DENIED') }, true, ['tls:alert-49']],
  ['reset during the handshake (a TLS 1.3 client without our CA)', { stage: 'handshake', error: alert('ECONNRESET') }, true, ['tls:reset']],
  ['closed during the handshake, no error', { stage: 'handshake' }, true, []],
  ['closed during the handshake, no error, but the device sent data to this host before (a connection given up)', { stage: 'handshake', trustedBefore: true }, false, []],
  ['reset during the handshake, but the device sent data to this host before', { stage: 'handshake', error: alert('ECONNRESET'), trustedBefore: true }, false, ['tls:reset']],
  ['alert unknown_ca (48) from a device that sent data to this host before (another app on it pins)', { stage: 'handshake', error: alert('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), trustedBefore: true }, true, ['tls:alert-48']],
  ['alert certificate_unknown (46) from a device that trusted this host before', { stage: 'handshake', error: alert('ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN'), trustedBefore: true }, true, ['tls:alert-46']],
  ['alert handshake_failure (40): no shared suite, not our certificate', { stage: 'handshake', error: alert('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE') }, false, ['tls:alert-40']],
  ['alert decrypt_error (51)', { stage: 'handshake', error: alert('ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR') }, false, ['tls:alert-51']],
  ['alert protocol_version (70): a TLS version we do not speak', { stage: 'handshake', error: alert('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION') }, false, ['tls:alert-protocol_version']],
  ['not TLS at all (plain HTTP to a TLS port)', { stage: 'handshake', error: alert('ERR_SSL_HTTP_REQUEST') }, false, ['tls:http-request']],
  ['garbage instead of a ClientHello', { stage: 'handshake', error: alert('ERR_SSL_WRONG_VERSION_NUMBER') }, false, ['tls:wrong-version-number']],
  ['an SSLv3-only client', { stage: 'handshake', error: alert('ERR_SSL_UNSUPPORTED_PROTOCOL') }, false, ['tls:unsupported-protocol']],
  ['closed right after the handshake without a byte (an app\'s pin check)', { stage: 'after-handshake', clientSpoke: false, msAfterHandshake: 15 }, true, ['tls:closed-without-request']],
  ['closed without a byte after idling (a browser\'s pre-connect)', { stage: 'after-handshake', clientSpoke: false, msAfterHandshake: limits.pinnedCloseWindowMs + 1 }, false, []],
  ['closed right after the handshake without a byte, but the device sent data to this host before (Chromium\'s unused pre-connect)', { stage: 'after-handshake', clientSpoke: false, msAfterHandshake: 15, trustedBefore: true }, false, []],
  ['closed after a request we answered 431 (header too large)', { stage: 'after-handshake', clientSpoke: true, msAfterHandshake: 20 }, false, []],
  ['closed after a request we answered 400 (malformed)', { stage: 'after-handshake', clientSpoke: true, msAfterHandshake: 5 }, false, []],
  ['closed after a 502 (the server could not be reached)', { stage: 'after-handshake', clientSpoke: true, msAfterHandshake: 30 }, false, []],
  ['closed after a whole exchange', { stage: 'after-handshake', clientSpoke: true, msAfterHandshake: 5_000 }, false, []],
];

for (const [name, ending, pinned, tags] of rows) {
  t.test(name, async (t) => {
    const verdict = pinningVerdict(ending);
    t.equal(verdict.pinned, pinned, pinned ? 'learned as pinned' : 'not learned');
    t.same(verdict.tags, tags);
    t.equal(verdict.failedHandshake, ending.stage === 'handshake');
    t.match(verdict.reason, /\S/);
  });
}
