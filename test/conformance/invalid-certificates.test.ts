// A server whose certificate does not verify (out of date, for other names, signed by a CA nobody
// trusts), with `openssl s_client` and curl as the device, straight and through phonehome. The device is
// shown a leaf as invalid in the same way, and decides as it would have directly:
// - a device that checks (-verify_return_error) refuses it with the same complaint, sends nothing,
//   and is not taken for a pinning app; its next connection passes through to meet the server's own
//   certificate, which it refuses again as directly;
// - a device that does not check gets through, as directly: its request reaches the server, is
//   decrypted and recorded, and the flow says that it took an invalid certificate.
// Before, every device got a good leaf and then a 502 from phonehome: a checking device sent its
// request (and its data) where directly it would have sent nothing, and one that does not check
// never reached its server.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import type { Flow } from '../../src/model/flow.js';
import { noticeForFlow } from '../../src/app/notices.js';
import { certificateFlaws } from '../helpers/certificate-flaws.js';
import { getOriginCa, pemFile, startLab } from '../helpers/lab.js';
import { runProgram } from '../helpers/run-client.js';
import { startOneRequestTlsOrigin, type OneRequestTlsOrigin } from '../helpers/tls-origin.js';

const skip = spawnSync('openssl', ['version']).status !== 0 && 'openssl not installed';
const NAME = 'device.example.test';

const answer = 'HTTP/1.0 200 OK\r\n\r\nfrom the server';

const flaws = certificateFlaws.map((flaw) => ({
  ...flaw,
  start: (): Promise<OneRequestTlsOrigin> => {
    const leaf = flaw.leaf(NAME);
    return startOneRequestTlsOrigin({ key: leaf.keyPem, cert: leaf.certPem }, answer);
  },
}));

/** openssl s_client as the device, to 127.0.0.1:port with SNI NAME, checking NAME; `checks`: it refuses what does not verify. */
function device(options: { port: number; caFile: string; proxyPort?: number; checks: boolean }) {
  const args = ['s_client', '-connect', `${options.proxyPort === undefined ? '127.0.0.1' : NAME}:${options.port}`, '-servername', NAME, '-verify_hostname', NAME, '-CAfile', options.caFile, '-ign_eof', ...(options.checks ? ['-verify_return_error'] : [])];
  if (options.proxyPort !== undefined) args.push('-proxy', `127.0.0.1:${options.proxyPort}`);
  return runProgram('openssl', args, `GET /album HTTP/1.0\r\nHost: ${NAME}\r\n\r\n`, 20_000);
}

for (const flaw of flaws) {
  t.test(`a server certificate ${flaw.name}: a device that checks refuses it through phonehome as directly, and is not taken for pinning`, { skip }, async (t) => {
    const origin = await flaw.start();
    t.teardown(() => origin.close());
    const lab = await startLab();
    t.teardown(() => lab.close());
    const direct = await device({ port: origin.port, caFile: pemFile(getOriginCa().certPem), checks: true });
    t.not(direct.code, 0, 'refused directly');
    t.match(direct.stdout + direct.stderr, flaw.verifyError, 'directly: its complaint');
    const proxied = await device({ port: origin.port, caFile: pemFile(lab.ca.certPem), proxyPort: lab.port, checks: true });
    t.not(proxied.code, 0, 'refused through phonehome');
    t.match(proxied.stdout + proxied.stderr, flaw.verifyError, 'through phonehome: the same complaint');
    t.same(origin.requests, [], 'no request reached the server, either way');
    t.equal(origin.connections(), 2, 'one connection each way: phonehome looked at the server once');
    const failed = await lab.next('flow:end', (f: Flow) => f.kind === 'tls-failed');
    t.ok(failed.tags.includes('tls:refused-invalid-certificate'), `the refusal is recorded as such (${failed.tags})`);
    t.match(noticeForFlow(failed)?.line, new RegExp(`could not be verified \\(${flaw.code}\\); the device was shown one as invalid and refused it.*--upstream-ca FILE`), 'the notice still names --upstream-ca for a lab server');
    t.notOk(failed.tags.includes('tls:certificate-rejected'), 'not as pinning');
    t.match(lab.passthrough.learned(), [{ host: NAME, kind: 'invalid-certificate' }], 'its connections pass through from now on');
    // The next connection meets the server's own certificate, and the device refuses it as directly.
    const again = await device({ port: origin.port, caFile: pemFile(lab.ca.certPem), proxyPort: lab.port, checks: true });
    t.not(again.code, 0, 'refused again');
    t.same(origin.requests, [], 'still no request');
    const tunnel = await lab.next('flow:end', (f: Flow) => f.kind === 'tunnel');
    t.ok(tunnel.tags.includes('passthrough:invalid-certificate'), `passed through (${tunnel.tags})`);
  });

  t.test(`a server certificate ${flaw.name}: a device that does not check gets through as directly, decrypted, and the flow says it took an invalid certificate`, { skip }, async (t) => {
    const origin = await flaw.start();
    t.teardown(() => origin.close());
    const lab = await startLab();
    t.teardown(() => lab.close());
    const direct = await device({ port: origin.port, caFile: pemFile(getOriginCa().certPem), checks: false });
    t.equal(direct.code, 0, `directly: ${direct.stderr}`);
    const proxied = await device({ port: origin.port, caFile: pemFile(lab.ca.certPem), proxyPort: lab.port, checks: false });
    t.equal(proxied.code, 0, `through phonehome: ${proxied.stderr}`);
    t.match(direct.stdout, /\r\n\r\nfrom the server/);
    t.match(proxied.stdout, /\r\n\r\nfrom the server/, 'the same answer');
    t.match(proxied.stdout + proxied.stderr, flaw.verifyError, 'the device saw the same flaw, and went on');
    t.same(origin.requests, ['GET /album HTTP/1.0', 'GET /album HTTP/1.0'], 'the server got the request both times');
    t.equal(origin.connections(), 2, 'over one connection each time: phonehome looked at the server on the one the device then used');
    const flow = await lab.next('flow:end', (f: Flow) => f.kind === 'http');
    t.ok(flow.tags.includes(`tls:accepted-invalid-certificate:${flaw.code}`), `tagged (${flow.tags})`);
    t.equal(flow.kind === 'http' ? flow.request.url : '', `https://${NAME}:${origin.port}/album`);
    t.match(noticeForFlow(flow)?.line, /the device accepted a certificate as invalid as its server's .*: it does not check certificates there/, 'the console and the terminal UI say so');
    t.equal(lab.passthrough.learned().length, 0, 'nothing learned');
  });
}

const haveCurl = spawnSync('curl', ['--version']).status === 0;

t.test('curl, checking and with -k: the same exit and complaint straight and through phonehome, for each flaw', { skip: !haveCurl && 'curl not installed' }, async (t) => {
  for (const flaw of flaws) {
    const origin = await flaw.start();
    const checking = await startLab();
    const lax = await startLab();
    try {
      const url = `https://${NAME}:${origin.port}/album`;
      const curl = (caFile: string, extra: string[]) => runProgram('curl', ['-sS', '--max-time', '20', '--cacert', caFile, ...extra, url], '', 30_000);
      const direct = await curl(pemFile(getOriginCa().certPem), ['--resolve', `${NAME}:${origin.port}:127.0.0.1`]);
      const proxied = await curl(pemFile(checking.ca.certPem), ['-x', `http://127.0.0.1:${checking.port}`]);
      t.not(direct.code, 0, `${flaw.name}: refused directly (${direct.stderr.split('\n')[0]})`);
      t.equal(proxied.code, direct.code, `${flaw.name}: the same exit through phonehome (${proxied.stderr.split('\n')[0]})`);
      t.equal(proxied.stderr.replace(/^curl: \(\d+\) /, ''), direct.stderr.replace(/^curl: \(\d+\) /, ''), `${flaw.name}: the same complaint`);
      const directLax = await curl(pemFile(getOriginCa().certPem), ['-k', '--resolve', `${NAME}:${origin.port}:127.0.0.1`]);
      const proxiedLax = await curl(pemFile(lax.ca.certPem), ['-k', '-x', `http://127.0.0.1:${lax.port}`]);
      t.equal(directLax.code, 0, `${flaw.name}: -k gets through directly`);
      t.equal(proxiedLax.code, 0, `${flaw.name}: and through phonehome (${proxiedLax.stderr.trim()})`);
      t.equal(proxiedLax.stdout, directLax.stdout, `${flaw.name}: the same answer`);
      t.same(origin.requests, ['GET /album HTTP/1.1', 'GET /album HTTP/1.1'], `${flaw.name}: the server got the -k requests only`);
    } finally {
      origin.close();
      await checking.close();
      await lax.close();
    }
  }
});
