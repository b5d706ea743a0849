// Notices: which failures a person is told about, in what words, and how often.

import t from 'tap';
import { Notices, noticeForFlow } from '../../../src/app/notices.js';
import { EventBus } from '../../../src/flow/events.js';
import { TuiModel } from '../../../src/sinks/tui/tui-model.js';
import { makeFlow } from '../../helpers/flows.js';

t.test('which failed flows become notices', async (t) => {
  const rows: Array<[string, string | undefined, RegExp | undefined]> = [
    ['upstream certificate verification failed (DEPTH_ZERO_SELF_SIGNED_CERT): self-signed certificate', 'upstream-certificate', /--upstream-ca FILE/],
    ['upstream: ENOTFOUND: getaddrinfo ENOTFOUND api.example.com', 'dns', /did not resolve/],
    ['upstream: ECONNREFUSED: connect ECONNREFUSED 10.0.0.1:443', 'unreachable', /could not be reached \(ECONNREFUSED\)/],
    ['client closed the connection before the response was complete', undefined, undefined],
    ['the stream was cancelled before it completed', undefined, undefined],
  ];
  for (const [error, kind, line] of rows) {
    const notice = noticeForFlow(makeFlow({ error }));
    t.equal(notice?.kind, kind, error);
    if (line) t.match(notice?.line, line);
  }
  t.equal(noticeForFlow(makeFlow({})), undefined, 'a flow without an error says nothing');
});

t.test('each host is said once a minute, with the repeats counted; pinned hosts and refused clients too', async (t) => {
  const bus = new EventBus();
  const said: string[] = [];
  let now = 0;
  new Notices(bus, (line) => said.push(line), { intervalMs: 60_000, now: () => now });
  const bad = makeFlow({ error: 'upstream certificate verification failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE): unable to verify' });
  for (let i = 0; i < 5; i++) bus.emit('flow:end', bad);
  bus.emit('flow:end', makeFlow({ target: { host: 'other.example.com', port: 443 }, error: 'upstream: ENOTFOUND: nope' }));
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
