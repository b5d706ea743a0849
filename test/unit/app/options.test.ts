import t from 'tap';
import { parseByteSize, parseDuration, parseListen, resolveCaptureOptions } from '../../../src/app/options.js';

t.test('--listen forms', async (t) => {
  t.same(parseListen('0.0.0.0:8080'), { host: '0.0.0.0', port: 8080 });
  t.same(parseListen('[::]:8080'), { host: '::', port: 8080 });
  t.same(parseListen('9090'), { host: '0.0.0.0', port: 9090 });
  t.same(parseListen('localhost:0'), { host: '127.0.0.1', port: 0 });
  for (const bad of ['nope', '1.2.3.4:99999', 'example.com:80', '1.2.3.4:']) t.throws(() => parseListen(bad), /--listen/, bad);
});

t.test('--duration forms', async (t) => {
  t.equal(parseDuration('90'), 90_000);
  t.equal(parseDuration('10m'), 600_000);
  t.equal(parseDuration('2h'), 7_200_000);
  t.equal(parseDuration('1.5s'), 1_500);
  for (const bad of ['0', 'ten', '5d', '-1']) t.throws(() => parseDuration(bad), /--duration/, bad);
});

t.test('--body-limit forms', async (t) => {
  t.equal(parseByteSize('1024', '--body-limit'), 1024);
  t.equal(parseByteSize('32m', '--body-limit'), 32 * 1024 * 1024);
  t.equal(parseByteSize('512KiB', '--body-limit'), 512 * 1024);
  t.equal(parseByteSize('1g', '--body-limit'), 1024 ** 3);
  t.throws(() => parseByteSize('lots', '--body-limit'), /--body-limit/);
});

t.test('capture and the live view both get a default output folder; --no-files is for the live view only', async (t) => {
  const now = new Date('2026-11-27T18:30:11.512Z');
  t.match(resolveCaptureOptions({}, 'capture', now).outDir, /phonehome-run-2026-11-27T18-30-11Z$/);
  t.match(resolveCaptureOptions({}, 'ui', now).outDir, /phonehome-run-2026-11-27T18-30-11Z$/, 'the live view keeps its evidence too');
  t.equal(resolveCaptureOptions({ 'no-files': true }, 'ui', now).outDir, undefined);
  t.throws(() => resolveCaptureOptions({ 'no-files': true }, 'capture', now), /--no-files is for the live view/);
  t.throws(() => resolveCaptureOptions({ 'no-files': true, out: '/tmp/x' }, 'ui', now), /--no-files and --out/);
  t.throws(() => resolveCaptureOptions({ append: true, force: true }, 'capture', now), /--append and --force/);
});

t.test('bad values are one-line configuration errors naming the option', async (t) => {
  t.throws(() => resolveCaptureOptions({ 'fail-on': 'severe' }, 'capture'), /--fail-on "severe": use one of info, low/);
  t.throws(() => resolveCaptureOptions({ 'upstream-ca': ['/nonexistent/ca.pem'] }, 'capture'), /--upstream-ca \/nonexistent/);
  t.throws(() => resolveCaptureOptions({ 'allow-client': ['everyone'] }, 'capture'), /--allow-client/);
  t.throws(() => resolveCaptureOptions({ 'proxy-auth': 'x' }, 'capture'), /--proxy-auth/);
  t.throws(() => resolveCaptureOptions({ canaries: 'c.yaml' }, 'capture'), /--canaries/);
  t.throws(() => resolveCaptureOptions({ rules: '/nonexistent-rules' }, 'capture'), /--rules \/nonexistent-rules/);
});

t.test('the recorded options never contain the proxy password', async (t) => {
  const options = resolveCaptureOptions({ 'proxy-auth': 'lab:hunter2' }, 'ui');
  t.notMatch(JSON.stringify(options.record), /hunter2/);
  t.equal(options.record['proxyAuth'], 'on');
});

t.test('--wireguard: a port or HOST:PORT, bare means 51820; its companions need it', async (t) => {
  const { parseOptions } = await import('../../../src/cli/parse.js');
  const { captureOptionSpecs } = await import('../../../src/app/options.js');
  const usage = { min: 0, max: 0, usage: 'phonehome capture [options]' };
  t.equal(parseOptions(['--wireguard'], captureOptionSpecs, usage).values['wireguard'], '51820', 'bare, at the end');
  t.equal(parseOptions(['--wireguard', '--out', 'x'], captureOptionSpecs, usage).values['wireguard'], '51820', 'bare, before another option');
  t.equal(parseOptions(['--wireguard', '0.0.0.0:51999'], captureOptionSpecs, usage).values['wireguard'], '0.0.0.0:51999', 'with a value');
  t.throws(() => parseOptions(['--transparent'], captureOptionSpecs, usage), /--transparent/, 'options without an omitted value still need theirs');
  for (const name of ['wireguard-client', 'wireguard-endpoint']) {
    const value = name === 'wireguard-client' ? ['tablet'] : 'lab.example.test';
    t.throws(() => resolveCaptureOptions({ [name]: value }, 'capture'), new RegExp(`--${name} configures the WireGuard endpoint: add --wireguard`), name);
  }
  t.throws(() => resolveCaptureOptions({ 'dns-upstream': '9.9.9.9' }, 'capture'), /--dns-upstream is where phonehome forwards DNS: add --dns/);
  t.throws(() => resolveCaptureOptions({ dns: 'nowhere' }, 'capture'), /--dns "nowhere": use HOST:PORT/);
  t.throws(() => resolveCaptureOptions({ dns: '127.0.0.1:5353', 'dns-upstream': 'dns.google' }, 'capture'), /--dns-upstream "dns.google": use a resolver's IP address/);
  const dns = resolveCaptureOptions({ dns: '127.0.0.1:5353', 'dns-upstream': '9.9.9.9' }, 'capture');
  t.same(dns.dns, { host: '127.0.0.1', port: 5353 });
  t.same(dns.record['dns'], '127.0.0.1:5353');
  t.same(dns.record['dnsUpstream'], '9.9.9.9:53');
});

t.test('--opaque-limit and --pcap', async (t) => {
  t.equal(resolveCaptureOptions({}, 'capture').opaqueLimitBytes, 256 * 1024 * 1024, '256 MiB by default');
  t.equal(resolveCaptureOptions({ 'opaque-limit': '0' }, 'capture').opaqueLimitBytes, 0, '0 turns it off');
  t.equal(resolveCaptureOptions({ 'opaque-limit': '64m' }, 'capture').opaqueLimitBytes, 64 * 1024 * 1024);
  t.equal(resolveCaptureOptions({ 'no-files': true }, 'ui').opaqueLimitBytes, 0, 'no run folder, no opaque.pcapng');
  t.throws(() => resolveCaptureOptions({ 'opaque-limit': 'lots' }, 'capture'), /--opaque-limit "lots"/);
  const pcap = resolveCaptureOptions({ pcap: 'out.pcapng' }, 'capture');
  t.match(pcap.pcapFile, /\/out\.pcapng$/);
  t.match(pcap.record['pcap'], { sensitive: true });
});
