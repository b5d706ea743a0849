// The TLS version a device and its server agree on, straight and through phonehome, with
// `openssl s_client` as the device: the device must speak to phonehome the version it would have
// spoken to its server, and the server must see the version the device would have offered it.
// Before, phonehome spoke TLS 1.3 to every server that had it and offered TLS 1.3 to every device,
// so a server saw a version the device never offers, a device spoke a version its server never
// speaks, and a device that refuses its server's old version got through phonehome to it.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import tls from 'node:tls';
import type { Flow } from '../../src/model/flow.js';
import { getOriginCa, pemFile, startLab } from '../helpers/lab.js';
import { runProgram } from '../helpers/run-client.js';
import { startOneRequestTlsOrigin, type OneRequestTlsOrigin } from '../helpers/tls-origin.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
const skip = !haveOpenssl && 'openssl not installed';
const NAME = 'versions.example.test';

interface VersionedOrigin extends OneRequestTlsOrigin {
  /** The version of each connection that finished its handshake. */
  readonly versions: string[];
}

/** A TLS server speaking `min` to `max` (old suites allowed), answering one HTTP/1.0 request per connection. */
async function startOrigin(min: tls.SecureVersion, max: tls.SecureVersion): Promise<VersionedOrigin> {
  const leaf = getOriginCa().issueLeaf(NAME);
  const versions: string[] = [];
  const origin = await startOneRequestTlsOrigin({ key: leaf.keyPem, cert: leaf.certPem, minVersion: min, maxVersion: max, ciphers: 'DEFAULT:@SECLEVEL=0' }, 'HTTP/1.0 200 OK\r\n\r\nfrom the server', (socket) => versions.push(socket.getProtocol() ?? ''));
  return { ...origin, versions };
}

/** openssl s_client as the device (reading until the server closes): the version it agreed on (undefined when the handshake failed) and its answer. */
async function device(options: { port: number; caFile: string; proxyPort?: number; flags: string[] }): Promise<{ version: string | undefined; stdout: string; stderr: string }> {
  const args = ['s_client', '-brief', '-ign_eof', '-connect', `${NAME}:${options.port}`, '-servername', NAME, '-verify_return_error', '-CAfile', options.caFile, '-cipher', 'DEFAULT:@SECLEVEL=0', ...options.flags];
  // Directly, the name is the server's address; through phonehome, CONNECT carries it.
  if (options.proxyPort !== undefined) args.push('-proxy', `127.0.0.1:${options.proxyPort}`);
  else args.splice(args.indexOf(`${NAME}:${options.port}`), 1, `127.0.0.1:${options.port}`);
  const { stdout, stderr } = await runProgram('openssl', args, `GET /sync HTTP/1.0\r\nHost: ${NAME}\r\n\r\n`, 20_000);
  return { version: /Protocol version: (\S+)/.exec(stderr)?.[1], stdout, stderr };
}

interface Scenario {
  readonly name: string;
  readonly server: [tls.SecureVersion, tls.SecureVersion];
  /** openssl's version options: what the device speaks. */
  readonly flags: string[];
  /** The version the device agrees on (undefined: none, the handshake fails), directly and so through phonehome. */
  readonly deviceVersion: string | undefined;
  /**
   * The version the server saw, directly and so through phonehome, when the device got through.
   * (When it did not, the server saw no request either way; through phonehome it still saw our
   * look before the device was answered: a handshake, then a close.)
   */
  readonly serverVersion?: string;
}

const scenarios: Scenario[] = [
  {
    name: 'a TLS 1.2 server and a device with TLS 1.3: the device speaks TLS 1.2, to phonehome too',
    server: ['TLSv1.2', 'TLSv1.2'], flags: [], deviceVersion: 'TLSv1.2', serverVersion: 'TLSv1.2',
  },
  {
    name: 'a device without TLS 1.3 (no supported_versions, as Android before 10) and a TLS 1.3 server: the server sees TLS 1.2',
    server: ['TLSv1', 'TLSv1.3'], flags: ['-no_tls1_3'], deviceVersion: 'TLSv1.2', serverVersion: 'TLSv1.2',
  },
  {
    name: 'an Android 4.4-like device (TLS 1.0 only) and a server that still speaks TLS 1.0: TLS 1.0 on both sides',
    server: ['TLSv1', 'TLSv1.3'], flags: ['-tls1'], deviceVersion: 'TLSv1', serverVersion: 'TLSv1',
  },
  {
    name: 'a device without TLS 1.3 that refuses TLS 1.0 (a Java 8 app with it disabled) and a TLS 1.0-only server: refused through phonehome as directly',
    server: ['TLSv1', 'TLSv1'], flags: ['-no_tls1_3', '-no_tls1', '-no_tls1_1'], deviceVersion: undefined,
  },
];

t.test('the TLS versions agreed on, straight to the server and through phonehome', { skip }, async (t) => {
  for (const scenario of scenarios) {
    await t.test(scenario.name, async (t) => {
      const origin = await startOrigin(...scenario.server);
      t.teardown(() => origin.close());
      const lab = await startLab();
      t.teardown(() => lab.close());
      const direct = await device({ port: origin.port, caFile: pemFile(getOriginCa().certPem), flags: scenario.flags });
      t.equal(direct.version, scenario.deviceVersion, `directly: ${direct.stderr}`);
      const directRequests = origin.requests.length;
      const proxied = await device({ port: origin.port, caFile: pemFile(lab.ca.certPem), proxyPort: lab.port, flags: scenario.flags });
      t.equal(proxied.version, direct.version, `through phonehome, the same version: ${proxied.stderr}`);
      t.equal(proxied.stdout, direct.stdout, 'the same answer');
      t.equal(origin.requests.length, 2 * directRequests, 'the server got the request through phonehome exactly when it got it directly');
      if (scenario.serverVersion) {
        // One connection each way: through phonehome, the look before answering the device is the one the request rides on.
        t.same(origin.versions, [scenario.serverVersion, scenario.serverVersion], 'the server saw the version it would have seen');
        const flow = await lab.next('flow:end', (f: Flow) => f.kind === 'http');
        t.match(flow.tls, { client: { version: scenario.deviceVersion }, server: { version: scenario.serverVersion } }, 'the flow records both sides');
      } else {
        const failed = await lab.next('flow:end', (f: Flow) => f.kind === 'tls-failed');
        t.match(failed.tags, [/^tls:/], `the refused handshake is a flow: ${failed.error}`);
      }
      t.equal(lab.passthrough.learned().length, 0, 'nothing learned as pinned');
    });
  }
});

// Until 2026-12-07 phonehome spoke TLS 1.2 to such a server all the same, and bridged the two: the
// server got a request it never gets from the device. Now it is offered TLS 1.3 alone, as by the
// device, and refuses; the device is told why in a 502 (as for any server older than the device
// and the lab allow), and a lab that wants the bridge sets --upstream-tls-min.
t.test('a device with TLS 1.3 alone and a TLS 1.2-only server: no request reaches the server through phonehome, as directly', { skip }, async (t) => {
  const origin = await startOrigin('TLSv1.2', 'TLSv1.2');
  t.teardown(() => origin.close());
  const lab = await startLab();
  t.teardown(() => lab.close());
  const direct = await device({ port: origin.port, caFile: pemFile(getOriginCa().certPem), flags: ['-tls1_3'] });
  t.equal(direct.version, undefined, `directly, no handshake: ${direct.stderr}`);
  t.match(direct.stderr, /alert protocol version/, 'the server\'s alert');
  const proxied = await device({ port: origin.port, caFile: pemFile(lab.ca.certPem), proxyPort: lab.port, flags: ['-tls1_3'] });
  // Until 2026-12-07 the device finished a handshake with phonehome and got a 502 for its request.
  t.equal(proxied.version, undefined, `through phonehome, no handshake either: ${proxied.stderr}`);
  t.match(proxied.stderr, /alert protocol version/, 'the server\'s alert, sent on to the device');
  t.same(origin.versions, [], 'the server finished no handshake either way');
  t.equal(origin.requests.length, 0, 'and got no request');
  const flow = await lab.next('flow:end', (f: Flow) => f.target.port === origin.port);
  t.equal(flow.kind, 'tls-failed');
  t.ok(['tls:server-refused', 'tls:server-alert-70', 'upstream:tls-version'].every((tag) => flow.tags.includes(tag)), `the flow says the server refused the device's versions: ${flow.tags.join(' ')}`);
});
