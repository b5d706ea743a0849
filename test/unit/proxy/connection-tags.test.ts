// The tags a decrypted or plain exchange gets from how its connection arrived: a Host or SNI that
// contradicts the server the client named is worth a look; one that names the server behind a bare
// address (a redirected connection, a SOCKS client that dialled an address) is the normal case.

import t from 'tap';
import { connectionTags } from '../../../src/proxy/layers/http1-layer.js';
import { newConnectionContext, type ConnectionContext } from '../../../src/proxy/context.js';
import { parseTarget } from '../../../src/proxy/access/target.js';
import type { CaptureMode } from '../../../src/model/flow.js';

function context(mode: CaptureMode, target: string, sni?: string): ConnectionContext {
  const parsed = parseTarget(target);
  if (!parsed.ok) throw new Error(parsed.reason);
  const ctx = newConnectionContext(mode, { ip: '10.0.0.2', port: 40000 }, parsed.target);
  if (sni !== undefined) ctx.tls = { sni, offered: { alpn: [] } };
  return ctx;
}

t.test('contradictions of a named target are tagged; names for an address are not', async (t) => {
  const rows: Array<[string, ConnectionContext, string | undefined, string[]]> = [
    ['CONNECT name, same SNI and Host', context('http', 'api.example.com:443', 'api.example.com'), 'api.example.com', ['decrypted']],
    ['CONNECT name, SNI of another server', context('http', 'api.example.com:443', 'front.example.net'), 'front.example.net', ['decrypted', 'sni-mismatch']],
    ['CONNECT name, Host of another server', context('http', 'api.example.com:443', 'api.example.com'), 'other.example.org', ['decrypted', 'host-mismatch']],
    ['plain proxy request through CONNECT', context('http', 'api.example.com:80'), 'api.example.com', ['connect:plain']],
    ['redirected to an address, SNI and Host name it', context('transparent', '93.184.216.34:443', 'api.example.com'), 'api.example.com', ['decrypted']],
    ['WireGuard to an address, plain HTTP with a Host', context('wireguard', '93.184.216.34:80'), 'api.example.com', ['plain']],
    ['SOCKS to an address, SNI names it', context('socks5', '93.184.216.34:443', 'api.example.com'), 'api.example.com', ['decrypted']],
  ];
  for (const [what, ctx, authority, tags] of rows) t.same(connectionTags(ctx, authority), tags, what);
});
