import t from 'tap';
import { PassthroughPolicy, compileHostPattern } from '../../../src/proxy/passthrough.js';

t.test('patterns match hosts with * wildcards, case-insensitively', async (t) => {
  const policy = new PassthroughPolicy(['*.apple.com', 'pinned.example.org']);
  t.equal(policy.decide('gsa.apple.com'), 'configured');
  t.equal(policy.decide('A.B.APPLE.COM'), 'configured');
  t.equal(policy.decide('pinned.example.org'), 'configured');
  t.equal(policy.decide('apple.com.evil.example'), undefined);
  t.equal(policy.decide('notapple.com'), undefined);
  t.equal(policy.decide('xpinned.example.org'), undefined);
});

t.test('patterns with other characters are refused', async (t) => {
  t.throws(() => compileHostPattern('a(b'), /--passthrough/);
  t.throws(() => compileHostPattern('a b'), /--passthrough/);
});

t.test('a handshake alert makes a host pass through at once', async (t) => {
  const policy = new PassthroughPolicy();
  const learned = policy.recordRejection('Pinned.Example.com', { kind: 'handshake-error', reason: 'client sent TLS alert unknown ca (48)' });
  t.equal(learned?.host, 'pinned.example.com');
  t.equal(policy.decide('pinned.example.com'), 'learned');
  t.equal(policy.recordRejection('pinned.example.com', { kind: 'handshake-error', reason: 'again' }), undefined, 'learned once');
  t.equal(policy.learned().length, 1);
});

t.test('a quick close without a request counts, an idle pre-connect does not', async (t) => {
  const policy = new PassthroughPolicy();
  t.ok(policy.recordRejection('okhttp.example', { kind: 'closed-without-request', msAfterHandshake: 15 }));
  t.equal(policy.recordRejection('browser.example', { kind: 'closed-without-request', msAfterHandshake: 30_000 }), undefined);
  t.equal(policy.decide('browser.example'), undefined);
});

t.test('forget() resets one host or all', async (t) => {
  const policy = new PassthroughPolicy();
  policy.recordRejection('a.example', { kind: 'handshake-error', reason: 'x' });
  policy.recordRejection('b.example', { kind: 'handshake-error', reason: 'x' });
  policy.forget('a.example');
  t.equal(policy.decide('a.example'), undefined);
  t.equal(policy.decide('b.example'), 'learned');
  policy.forget();
  t.equal(policy.learned().length, 0);
});
