// ProxyConnectionUpstreams: one upstream per server for each HTTP proxy connection, reused while
// the connection lasts, the least recently used let go past the bound, all let go when the
// connection closes. Agents here only count their release (the sockets are the integration
// test's: test/integration/plain-upstream-per-connection.test.ts).

import { PassThrough } from 'node:stream';
import t from 'tap';
import { limits } from '../../../src/limits.js';
import type { ConnectionAgent } from '../../../src/proxy/connection-agent.js';
import { ProxyConnectionUpstreams } from '../../../src/proxy/modes/proxy-connection-upstreams.js';
import type { Target } from '../../../src/proxy/access/target.js';

interface CountingAgent { readonly n: number; readonly tls: boolean; released: boolean; release(): void }

function upstreams(): { upstreams: ProxyConnectionUpstreams; made: CountingAgent[] } {
  const made: CountingAgent[] = [];
  const make = (tls: boolean): ConnectionAgent => {
    const agent: CountingAgent = { n: made.length, tls, released: false, release() { this.released = true; } };
    made.push(agent);
    return agent as unknown as ConnectionAgent;
  };
  return { upstreams: new ProxyConnectionUpstreams(make), made };
}

const server = (i: number): Target => ({ host: `s${i}.example.test`, port: 80, hostKind: 'dns' }) as Target;

t.test('one upstream per server and connection, reused', async (t) => {
  const { upstreams: u, made } = upstreams();
  const a = new PassThrough();
  const b = new PassThrough();
  t.equal(u.agentFor(a, server(1)), u.agentFor(a, server(1)), 'the same server on the same connection: the same upstream');
  t.not(u.agentFor(a, server(1)), u.agentFor(a, server(2)), 'another server: another upstream');
  t.not(u.agentFor(a, server(1)), u.agentFor(b, server(1)), 'another connection: another upstream');
  t.equal(made.length, 3);
  a.destroy();
  await new Promise((resolve) => a.once('close', resolve));
  t.same(made.map((m) => m.released), [true, true, false], "the closed connection's upstreams are let go, the other's kept");
});

t.test('the same server over TLS (an https:// URL) and in clear: an upstream each, of its kind', async (t) => {
  const { upstreams: u, made } = upstreams();
  const a = new PassThrough();
  const secure = u.agentFor(a, server(1), true);
  t.not(secure, u.agentFor(a, server(1)), 'in clear: another upstream');
  t.equal(u.agentFor(a, server(1), true), secure, 'over TLS again: the same');
  t.same(made.map((m) => m.tls), [true, false]);
});

t.test('past the bound the least recently used is let go', async (t) => {
  const { upstreams: u, made } = upstreams();
  const a = new PassThrough();
  for (let i = 0; i < limits.serversPerProxyConnection; i++) u.agentFor(a, server(i));
  u.agentFor(a, server(0)); // used again: now the most recent
  u.agentFor(a, server(limits.serversPerProxyConnection));
  t.equal(made.filter((m) => m.released).length, 1, 'one let go');
  t.equal(made[1]!.released, true, 'the least recently used (server 1, not server 0)');
  t.equal(u.agentFor(a, server(1)) === (made[1] as unknown), false, 'asked again, it gets a new upstream');
});
