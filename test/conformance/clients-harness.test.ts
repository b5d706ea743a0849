// The harness tests itself, with curl over SOCKS5 through relays of its own instead of phonehome:
// a relay that only copies bytes reads as identical (the positive), and relays that change one
// thing — the ALPN offer in the ClientHello on the way up, a byte of the answer on the way down —
// are each seen on the side where they happened, with a readable first difference.

import t from 'tap';
import { escapeBytes, firstDifference, missingCommand, runClient, runScenario, startPlainSocksRelay, startRecordingOrigin, type ProxyUnderTest, type RecordingOrigin, type RunContext, type Scenario } from './differential.js';

const skip = missingCommand('curl', 'curl');

function relayAsProxy(port: number, origin: RecordingOrigin): ProxyUnderTest {
  // Nothing is decrypted by these relays, so a client trusts the origin's CA through them too.
  return { name: 'relay', httpPort: port, socksPort: port, caPem: origin.caPem, caFile: origin.caFile, close: async () => undefined };
}

const curl: Scenario = {
  name: 'curl over SOCKS5',
  run: async (c: RunContext) => (await runClient('curl', ['-q', '-sS', '-i', '--http1.1', '--max-time', '20', '--cacert', c.origin.caFile,
    '--proxy', `socks5h://127.0.0.1:${c.proxy.socksPort}`, '-H', 'X-Device-Name: Pixel', `https://${c.origin.hostname}:${c.origin.port}/whoami`])).text,
};

/** Replaces `from` with `to` (same length or not) in every chunk; enough for one small request. */
const replace = (from: string, to: string) => (bytes: Buffer): Buffer => Buffer.from(bytes.toString('latin1').replace(from, to), 'latin1');

t.test('the differential harness', { skip: skip ?? false }, async (t) => {
  const origin = await startRecordingOrigin({ tls: true, handler: ((_req: unknown, res: { setHeader: (n: string, v: string) => void; end: (b: string) => void }) => { res.setHeader('x-origin', 'yes'); res.end('hello\n'); }) as never });
  t.teardown(() => origin.close());
  // "Direct" here is itself a plain relay: curl can then name the origin the same way in every run.
  const reference = await startPlainSocksRelay();
  t.teardown(() => reference.close());
  const direct = await runScenario(relayAsProxy(reference.port, origin), origin, curl, 'socks5');
  t.match(direct.client, /^exit 0\nHTTP\/1\.1 200 OK\\r\\n\n/, 'the reference run works');
  t.match(direct.origin, /^--- connection 1 tls\ntls sni=api\.example\.test alpn-offered=http\/1\.1 chosen=http\/1\.1\n--- connection 1 bytes\nGET \/whoami HTTP\/1\.1\\r\\n\n/, 'the origin records the ClientHello and the bytes after TLS');
  t.match(direct.origin, /X-Device-Name: Pixel\\r\\n\n/, 'header case as sent');

  t.test('a relay that copies bytes reads as identical', async (t) => {
    const same = await startPlainSocksRelay();
    t.teardown(() => same.close());
    const run = await runScenario(relayAsProxy(same.port, origin), origin, curl, 'socks5');
    t.equal(run.origin, direct.origin);
    t.equal(run.client, direct.client);
  });

  // TLS is end to end through these relays, so a tamper acts on ciphertext: the look-alikes change
  // the one thing a relay of ciphertext can change, the ClientHello (its ALPN offer), and bytes of
  // the answer, which TLS then refuses — each seen on its side.
  t.test('a relay that drops the ALPN offer is seen at the origin', async (t) => {
    const dropAlpn = await startPlainSocksRelay({ up: replace('http/1.1', 'http/1.0') });
    t.teardown(() => dropAlpn.close());
    const run = await runScenario(relayAsProxy(dropAlpn.port, origin), origin, curl, 'socks5');
    const difference = firstDifference(direct.origin, run.origin);
    t.match(difference, /^line 2: direct "tls sni=api\.example\.test alpn-offered=http\/1\.1 chosen=http\/1\.1" vs proxied "/, difference ?? 'no difference');
  });

  t.test('a relay that changes the answer is seen at the client', async (t) => {
    let flipped = false;
    const corrupt = await startPlainSocksRelay({ down: (bytes) => { if (flipped || bytes.length < 200) return bytes; flipped = true; const copy = Buffer.from(bytes); copy[copy.length - 1]! ^= 1; return copy; } });
    t.teardown(() => corrupt.close());
    const run = await runScenario(relayAsProxy(corrupt.port, origin), origin, curl, 'socks5');
    t.match(firstDifference(direct.client, run.client), /^line 1: direct "exit 0" vs proxied "exit \d+"/, 'curl fails, and the first line says so');
  });

  t.test('an origin that answers scripted bytes records what it got, in clear', async (t) => {
    const scripted = await startRecordingOrigin({
      script: (received) => (received.includes('\r\n\r\n') ? Buffer.from('HTTP/1.1 200 OK\r\nX-Odd:  two  spaces \r\nContent-Length: 3\r\n\r\nok\n') : undefined),
    });
    t.teardown(() => scripted.close());
    const proxy = relayAsProxy(reference.port, scripted);
    const run = await runScenario(proxy, scripted, {
      name: 'curl in clear',
      run: async (c) => (await runClient('curl', ['-q', '-sS', '-i', '--max-time', '20', '--proxy', `socks5h://127.0.0.1:${c.proxy.socksPort}`, `http://${c.origin.hostname}:${c.origin.port}/raw`])).text,
    }, 'socks5');
    t.match(run.origin, /^--- connection 1 bytes\nGET \/raw HTTP\/1\.1\\r\\n\nHost: api\.example\.test:\d+\\r\\n\n/);
    t.equal(run.client, 'exit 0\nHTTP/1.1 200 OK\\r\\n\nX-Odd:  two  spaces \\r\\n\nContent-Length: 3\\r\\n\n\\r\\n\nok\\n\n', 'the scripted bytes as sent');
  });

  t.test('bytes are rendered so that a diff shows them', async (t) => {
    t.equal(escapeBytes(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nA: b\\c\r\n\r\n'), Buffer.from([0, 255])])), 'GET / HTTP/1.1\\r\\n\nA: b\\\\c\\r\\n\n\\r\\n\n\\x00\\xff');
    t.equal(firstDifference('a\nb', 'a\nc'), 'line 2: direct "b" vs proxied "c"');
    t.equal(firstDifference('same', 'same'), undefined);
  });
});
