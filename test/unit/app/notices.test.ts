// Notices: which failures a person is told about, in what words, and how often.

import t from 'tap';
import { Notices, noticeForFlow } from '../../../src/app/notices.js';
import { EventBus } from '../../../src/flow/events.js';
import { TuiModel } from '../../../src/sinks/tui/tui-model.js';
import { makeFlow } from '../../helpers/flows.js';

t.test('which failed flows become notices: read from the tag made where the error happened', async (t) => {
  const rows: Array<[string, string | undefined, RegExp | undefined]> = [
    ['upstream:certificate:DEPTH_ZERO_SELF_SIGNED_CERT', 'upstream-certificate', /verified \(DEPTH_ZERO_SELF_SIGNED_CERT\).*--upstream-ca FILE/],
    ['upstream:tls-version', 'upstream-tls-version', /--upstream-tls-min 1\.0/],
    ['upstream:dns', 'dns', /did not resolve/],
    ['upstream:ECONNREFUSED', 'unreachable', /could not be reached \(ECONNREFUSED\)/],
    ['upstream:ECONNRESET', undefined, undefined],
    ['passthrough:learned', undefined, undefined],
  ];
  for (const [tag, kind, line] of rows) {
    const notice = noticeForFlow(makeFlow({ error: 'whatever the sentence says', tags: [tag] }));
    t.equal(notice?.kind, kind, tag);
    if (line) t.match(notice?.line, line);
  }
  t.equal(noticeForFlow(makeFlow({ error: 'upstream: ECONNREFUSED: connect ECONNREFUSED 10.0.0.1:443' })), undefined, 'the sentence alone is never parsed');
  const refused = noticeForFlow(makeFlow({ kind: 'tls-failed', tags: ['tls:server-refused', 'tls:server-alert-40', 'upstream:ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'] }));
  t.equal(refused?.kind, 'upstream-tls-refused', 'a server that refused the device\'s offer');
  t.match(refused?.line, /refused the device's TLS offer \(alert 40\); the device met the same/);
  t.match(noticeForFlow(makeFlow({ kind: 'tls-failed', tags: ['tls:server-refused', 'tls:server-reset', 'upstream:ECONNRESET'] }))?.line, /refused the device's TLS offer \(a reset\)/, 'a reset');
  t.match(noticeForFlow(makeFlow({ kind: 'tls-failed', tags: ['tls:server-refused', 'tls:server-closed', 'upstream:ECONNRESET'] }))?.line, /refused the device's TLS offer \(a close without a word\)/, 'a close');
  t.match(noticeForFlow(makeFlow({ kind: 'tls-failed', tags: ['tls:server-refused', 'tls:server-silent', 'upstream:ERR_TLS_HANDSHAKE_TIMEOUT'] }))?.line, /refused the device's TLS offer \(no answer\)/, 'silence');
  t.notMatch(refused?.line, /502|upstream-tls-min/, 'no 502 was sent, and no option changes it');
  const older = noticeForFlow(makeFlow({ kind: 'tls-failed', tags: ['tls:server-refused', 'tls:server-alert-70', 'upstream:tls-version'] }));
  t.match(older?.line, /\(alert 70\)[^]*--upstream-tls-min 1\.0 bridges them/, 'one older than the device: the option that bridges them');
  t.equal(noticeForFlow(makeFlow({ kind: 'rejected', tags: ['upstream:ECONNREFUSED'] })), undefined, 'a rejected request is said elsewhere');
});

t.test('the tags come from the errors themselves', async (t) => {
  const { upstreamFailure } = await import('../../../src/proxy/upstream.js');
  const error = (code: string, message = code): Error => Object.assign(new Error(message), { code });
  t.same(upstreamFailure(error('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')).tag, 'upstream:certificate:DEPTH_ZERO_SELF_SIGNED_CERT');
  t.same(upstreamFailure(error('ERR_TLS_CERT_ALTNAME_INVALID')).tag, 'upstream:certificate:ERR_TLS_CERT_ALTNAME_INVALID');
  t.same(upstreamFailure(error('ENOTFOUND')).tag, 'upstream:dns');
  t.same(upstreamFailure(error('ECONNREFUSED')).tag, 'upstream:ECONNREFUSED');
  t.same(upstreamFailure(error('EPROTO', 'write EPROTO ...:ssl3_read_bytes:tlsv1 alert protocol version')).tag, 'upstream:tls-version');
  t.same(upstreamFailure(error('ERR_SSL_UNSUPPORTED_PROTOCOL')).tag, 'upstream:tls-version');
  t.same(upstreamFailure(new Error('no code')).tag, 'upstream:error');
  t.same(upstreamFailure(error('not a code: <script>')).tag, 'upstream:error', 'only plain codes become tags');
});

t.test('each host is said once a minute, with the repeats counted; pinned hosts and refused clients too', async (t) => {
  const bus = new EventBus();
  const said: string[] = [];
  let now = 0;
  new Notices(bus, (line) => said.push(line), { intervalMs: 60_000, now: () => now });
  const bad = makeFlow({ error: 'upstream certificate verification failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE): unable to verify', tags: ['upstream:certificate:UNABLE_TO_VERIFY_LEAF_SIGNATURE'] });
  for (let i = 0; i < 5; i++) bus.emit('flow:end', bad);
  bus.emit('flow:end', makeFlow({ target: { host: 'other.example.com', port: 443 }, error: 'upstream: ENOTFOUND: nope', tags: ['upstream:dns'] }));
  t.equal(said.length, 2, 'five failures to one host: one line; another host: its own line');
  now = 61_000;
  bus.emit('flow:end', bad);
  t.match(said[2], /\(4 more like it in the last minute\)/);
  bus.emit('tls:failed', { flowId: 'fl-1', time: '', client: { ip: '192.168.1.23', port: 1 }, host: 'bank.example.com', port: 443, reason: 'client sent TLS alert unknown ca (48)', learnedPassthrough: true });
  bus.emit('client:refused', { time: '', ip: '8.8.8.8' });
  bus.emit('client:refused', { time: '', ip: '8.8.8.8' });
  t.match(said[3], /bank\.example\.com:443 refused phonehome's certificate .* passes through undecrypted/);
  t.match(said[4], /refused client 8\.8\.8\.8/);
  t.equal(said.length, 5);
});

t.test('the UI keeps them in an event log (E), escaped', async (t) => {
  const model = new TuiModel({ capacity: 100, proxyAddresses: ['192.168.1.5:8080'], insecureUpstream: false, redact: (f) => f });
  model.addEvent('first', new Date('2026-11-27T18:30:00Z'));
  model.addEvent('second \u001b[2J', new Date('2026-11-27T18:31:00Z'));
  t.match(model.render(100, 20).hint.text, /second .*\(E: event log\)/);
  model.command('events');
  const overlay = model.render(100, 20).overlay!.map((l) => l.text).join('\n');
  t.match(overlay, /Event log \(newest first, 2 event\(s\)\)/);
  t.ok(overlay.indexOf('18:31:00  second') < overlay.indexOf('18:30:00  first'), 'newest first');
  t.notMatch(overlay, /\u001b/);
  model.command('back');
  t.equal(model.view, 'main');
});
