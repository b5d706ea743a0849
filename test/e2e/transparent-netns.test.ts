// Transparent mode for real: three network namespaces made for this test — a "phone" with no proxy
// settings, a "gateway" running `phonehome capture --transparent` with iptables REDIRECT on the
// phone-facing veth (the hotspot), and a "cloud" with HTTPS, HTTP and SMTP servers. The phone's
// HTTPS (with and without SNI, and without SNI checking a host name), HTTP and SMTP reach the cloud
// through phonehome, decrypted where possible, and the findings name the cloud's address as their
// destination. A port the cloud refuses resets the phone's connection.
// Needs root, ip (iproute2) and iptables; skips with the reason otherwise.

import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { installRoot } from '../../src/util/install-paths.js';
import { transparentUnavailable } from '../../src/proxy/modes/original-destination.js';
import { tempDir } from '../helpers/lab.js';
import { has, makeLab, removeLab, sh, waitForLine, writeCloudCertificates, type Lab } from '../helpers/netns.js';

const cli = path.join(installRoot, 'dist', 'cli.js');
const fixtures = path.join(installRoot, 'test', 'fixtures', 'netns');
const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces)'
  : !has('ip') ? 'needs ip (iproute2)'
  : !has('iptables') ? 'needs iptables'
  : transparentUnavailable() ?? false;

const tag = `${process.pid % 10000}`;
const ns = { phone: `phph${tag}`, gw: `phgw${tag}`, cloud: `phcl${tag}` };
const net = { phoneGw: '10.231.1.1', phone: '10.231.1.2', cloudGw: '10.231.2.1', cloud: '10.231.2.2' };
const TRANSPARENT_PORT = 8081;

const lab: Lab = {
  ns,
  links: { phone: `vp${tag}`, gwPhone: `vg${tag}`, gwCloud: `vh${tag}`, cloud: `vc${tag}` },
  addresses: { phone: net.phone, gwPhone: net.phoneGw, gwCloud: net.cloudGw, cloud: net.cloud },
};

function setUp(): void {
  makeLab(lab);
  sh(`ip -n ${ns.phone} route add default via ${net.phoneGw}`);
  sh(`ip -n ${ns.cloud} route add default via ${net.cloudGw}`);
  sh(`ip netns exec ${ns.gw} sysctl -qw net.ipv4.ip_forward=1`);
}

function tearDown(): void {
  removeLab(lab);
}

t.test('a hotspot in network namespaces: the phone\'s HTTPS (SNI and none), HTTP and SMTP go through --transparent', { skip }, async (t) => {
  t.teardown(tearDown);
  tearDown();
  setUp();
  const work = tempDir();
  writeCloudCertificates(work, net.cloud);

  const cloud = spawn('ip', ['netns', 'exec', ns.cloud, process.execPath, path.join(fixtures, 'cloud.mjs'), path.join(work, 'certs.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { cloud.kill('SIGKILL'); });
  await waitForLine(cloud, /ready/);

  // The hotspot: every TCP connection arriving from the phone's side goes to phonehome.
  sh(`ip netns exec ${ns.gw} iptables -t nat -A PREROUTING -i vg${tag} -p tcp -j REDIRECT --to-ports ${TRANSPARENT_PORT}`);
  const out = path.join(work, 'run');
  const caDir = path.join(work, 'ca');
  const capture = spawn('ip', ['netns', 'exec', ns.gw, process.execPath, cli, 'capture', '--listen', '127.0.0.1:0', '--transparent', `0.0.0.0:${TRANSPARENT_PORT}`, '--ca-dir', caDir, '--out', out, '--upstream-ca', path.join(work, 'origin-ca.pem')], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (capture.exitCode === null) capture.kill('SIGKILL'); });
  let captureErr = '';
  capture.stderr!.on('data', (c: Buffer) => { captureErr += c.toString(); });
  await waitForLine(capture, /transparent \(redirected\) connections on 0\.0\.0\.0:8081/);

  const phone = spawnSync('ip', ['netns', 'exec', ns.phone, process.execPath, path.join(fixtures, 'phone.mjs'), path.join(caDir, 'ca.pem'), net.cloud], { encoding: 'utf8', timeout: 60_000 });
  t.equal(phone.status, 0, phone.stderr);
  const results = JSON.parse(phone.stdout.trim().split('\n').pop()!);
  t.comment(`phone saw: ${JSON.stringify(results)}`);
  t.match(results.httpsWithSni, { status: 200, body: /cloud got POST \/sync \(\d+ bytes\) for cloud\.example\.test/ });
  t.match(results.httpsWithoutSni, { status: 200, body: /cloud got GET \/no-sni/ });
  // Until 2026-12-06 its leaf named only the address, which such an app refuses (leaf-shape.ts).
  t.match(results.httpsNamedWithoutSni, { status: 200, body: 'cloud got GET /named-no-sni for cloud.example.test, SNI none' }, 'no SNI, a host name checked: through, and still no SNI upstream');
  t.match(results.plainHttp, { status: 200, body: /cloud got GET \/plain \(0 bytes\) for plain\.example\.test/ });
  t.match(results.smtp.transcript, /221 bye/);
  t.match(results.smtpOnAnOddPort.transcript, /^220 cloud ESMTP\r\n[^]*221 bye/);
  t.equal(results.refusedPort.outcome, 'ECONNRESET', 'a port the cloud refuses: the phone\'s connection is reset (until 2026-12-06 closed, as if the server had answered nothing)');

  // The JDK's HttpClient offers h2c with every plain request it makes without a proxy; until
  // 2026-12-06 phonehome answered each with a 400 (h2c-upgrade-offer.ts).
  const jdk = has('java') ? spawnSync('ip', ['netns', 'exec', ns.phone, 'java', path.join(fixtures, 'JdkPlainHttp.java'), `http://${net.cloud}/jdk`], { encoding: 'utf8', timeout: 120_000 }) : undefined;
  if (jdk) {
    t.equal(jdk.stdout, `200 HTTP_1_1 cloud got GET /jdk (0 bytes) for ${net.cloud}\n200 HTTP_1_1 cloud got POST /jdk (5 bytes) for ${net.cloud}\n`, `the JDK HttpClient's GET and POST, their h2c offer declined: ${jdk.stderr}`);
  } else t.comment('java is not installed: the JDK HttpClient part is not run');

  // A connection straight to the transparent port (not redirected) is refused, never looped.
  const direct = spawnSync('ip', ['netns', 'exec', ns.gw, process.execPath, '-e', `const s=require('net').connect(${TRANSPARENT_PORT},'127.0.0.1');s.on('error',()=>process.exit(0));s.on('close',()=>process.exit(0));setTimeout(()=>process.exit(3),5000)`], { encoding: 'utf8' });
  t.equal(direct.status, 0, 'closed at once');

  capture.kill('SIGTERM');
  const [code] = await once(capture, 'exit');
  t.equal(code, 0, captureErr);
  const har = JSON.parse(fs.readFileSync(path.join(out, 'flows.har'), 'utf8'));
  const entries = har.log.entries as Array<{ request: { url: string; method: string }; serverIPAddress?: string; _phonehome: Record<string, unknown> }>;
  const transparent = entries.filter((e) => e._phonehome['mode'] === 'transparent');
  t.ok(transparent.length >= 4, `${transparent.length} transparent flows`);
  const sync = entries.find((e) => e.request.url === 'https://cloud.example.test/sync');
  t.ok(sync, 'the HTTPS request with SNI is decrypted, its URL named by the SNI/Host');
  t.equal(sync?.serverIPAddress, net.cloud, 'serverIPAddress is the original destination');
  t.ok((sync?._phonehome['tags'] as string[]).includes('decrypted'));
  t.ok(entries.find((e) => e.request.url === `https://${net.cloud}/no-sni`), 'without SNI: decrypted with a leaf for the address');
  t.ok(entries.find((e) => e.request.url === 'https://cloud.example.test:8443/named-no-sni'), 'without SNI, checking a name: decrypted with a leaf for the server\'s names');
  t.ok(entries.find((e) => e.request.url === 'http://plain.example.test/plain'), 'HTTP keeps its Host header');
  if (jdk) {
    const declined = entries.filter((e) => e.request.url === `http://${net.cloud}/jdk` && (e._phonehome['tags'] as string[]).includes('http:h2c-declined'));
    t.same(declined.map((e) => e.request.method), ['GET', 'POST'], 'the JDK\'s two requests are flows, tagged http:h2c-declined');
  }
  const raw = entries.filter((e) => e._phonehome['kind'] === 'raw').map((e) => e.request.url);
  t.ok(raw.includes(`tcp://${net.cloud}:25/`), `SMTP is a raw stream to the original address (${raw.join(', ')})`);
  // Until 2026-12-07 a port that does not say who speaks first held the greeting until the phone
  // had been silent for the sniff window (500 ms), and the flow said `stream:client-silent`.
  const odd = entries.find((e) => e.request.url === `tcp://${net.cloud}:2526/`);
  t.ok((odd?._phonehome['tags'] as string[] | undefined)?.includes('stream:server-speaks-first'), `on a port of its own, decided by the server's greeting, passed on as it came (${JSON.stringify(odd?._phonehome['tags'])})`);
  const refused = entries.find((e) => e.request.url === `tcp://${net.cloud}:9/`);
  t.ok((refused?._phonehome['tags'] as string[] | undefined)?.includes('upstream:ECONNREFUSED'), `the refused connection is a flow that says so: ${JSON.stringify(refused?._phonehome)}`);

  const findings = fs.readFileSync(path.join(out, 'findings.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const sms = findings.find((f) => f.category === 'sms');
  t.comment(`sms finding: ${JSON.stringify({ host: sms?.host, destination: sms?.destination, url: sms?.url })}`);
  t.match(sms, { host: 'cloud.example.test', destination: { ip: net.cloud, port: 443 } }, 'the finding names the cloud\'s address');
  t.ok(findings.some((f) => f.category === 'mail' && f.destination.ip === net.cloud), 'the mail sent over SMTP is found');
  const loop = entries.find((e) => e._phonehome['mode'] === 'transparent' && e._phonehome['kind'] === 'rejected');
  t.ok((loop?._phonehome['tags'] as string[] | undefined)?.includes('client:loop'), `the direct connection is a rejected flow: ${JSON.stringify(loop?._phonehome)}`);
});
