// The proxy resumes its TLS session with a server it already spoke to: the second device
// connection to the same origin costs the server (and us) no full handshake, and the server
// sees a resumed session. A different server is never offered another's session.

import t from 'tap';
import type tls from 'node:tls';
import { getOriginCa, httpsViaProxy, startLab, startOrigin, type Origin } from '../helpers/lab.js';

/** An HTTPS origin that notes, per TLS connection, whether the handshake resumed a session. */
async function originNotingResumption(): Promise<{ origin: Origin; resumed: boolean[] }> {
  const resumed: boolean[] = [];
  const origin = await startOrigin({ tls: true, handler: (_req, res) => res.end('ok') });
  origin.server.on('secureConnection', (socket: tls.TLSSocket) => resumed.push(socket.isSessionReused()));
  return { origin, resumed };
}

t.test('a second device connection to the same server resumes the upstream TLS session', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const { origin, resumed } = await originNotingResumption();
  t.teardown(() => origin.close());
  const other = await originNotingResumption();
  t.teardown(() => other.origin.close());
  const trust = lab.ca.certPem;

  // Two device connections (two CONNECT tunnels, each its own upstream connection).
  for (let i = 0; i < 2; i++) {
    const answer = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: origin.port, trust });
    t.equal(answer.body.toString(), 'ok', `device connection ${i + 1} answered unchanged`);
  }
  t.same(resumed, [false, true], 'the first upstream handshake is full, the second resumes');

  // A look-alike: another server on another port (same name, same roots) gets a full handshake.
  const answer = await httpsViaProxy({ proxyPort: lab.port, host: 'api.example.test', port: other.origin.port, trust });
  t.equal(answer.body.toString(), 'ok');
  t.same(other.resumed, [false], 'a session is never offered to another server');
  t.ok(getOriginCa(), 'origins are verified against their own CA throughout');
});
