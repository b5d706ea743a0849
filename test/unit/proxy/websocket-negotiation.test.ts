// The WebSocket offer carried upstream as the device made it (issue #23, planted bugs): each
// permessage-deflate parameter becomes exactly its ws option, window bits from 8 to 15 only, an
// offer ws cannot express exactly is skipped for the next one, and the server's answer is handed
// on only when it accepted compression.

import t from 'tap';
import { acceptedDeflate, offeredProtocols, upstreamDeflateOffer } from '../../../src/proxy/layers/websocket-negotiation.js';

t.test('each deflate parameter becomes its own option, nothing more', async (t) => {
  t.same(upstreamDeflateOffer('permessage-deflate'), { clientMaxWindowBits: false }, 'a bare offer: ws must not add client_max_window_bits');
  t.same(upstreamDeflateOffer('permessage-deflate; server_no_context_takeover'), { clientMaxWindowBits: false, serverNoContextTakeover: true });
  t.same(upstreamDeflateOffer('permessage-deflate; client_no_context_takeover'), { clientMaxWindowBits: false, clientNoContextTakeover: true });
  t.same(upstreamDeflateOffer('permessage-deflate; client_max_window_bits'), { clientMaxWindowBits: true });
  t.same(upstreamDeflateOffer('permessage-deflate; client_max_window_bits=10'), { clientMaxWindowBits: 10 });
  t.same(upstreamDeflateOffer('permessage-deflate; server_max_window_bits=12'), { clientMaxWindowBits: false, serverMaxWindowBits: 12 });
  const all = upstreamDeflateOffer('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=14');
  t.same(all, { clientMaxWindowBits: 14, serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9 });
  const absent = upstreamDeflateOffer('permessage-deflate; server_max_window_bits=9');
  t.notOk(absent && 'serverNoContextTakeover' in absent, 'an absent no_context_takeover stays absent, not false');
  t.notOk(absent && 'clientNoContextTakeover' in absent);
});

t.test('window bits: 8 and 15 are bits, 7, 16 and three digits are not', async (t) => {
  t.same(upstreamDeflateOffer('permessage-deflate; server_max_window_bits=8'), { clientMaxWindowBits: false, serverMaxWindowBits: 8 });
  t.same(upstreamDeflateOffer('permessage-deflate; server_max_window_bits=15'), { clientMaxWindowBits: false, serverMaxWindowBits: 15 });
  t.same(upstreamDeflateOffer('permessage-deflate; client_max_window_bits=8'), { clientMaxWindowBits: 8 });
  t.same(upstreamDeflateOffer('permessage-deflate; client_max_window_bits=15'), { clientMaxWindowBits: 15 });
  for (const bits of ['7', '16', '010', '9x']) {
    t.equal(upstreamDeflateOffer(`permessage-deflate; server_max_window_bits=${bits}`), false, `server ${bits}`);
    t.equal(upstreamDeflateOffer(`permessage-deflate; client_max_window_bits=${bits}`), false, `client ${bits}`);
  }
  t.equal(upstreamDeflateOffer('permessage-deflate; server_max_window_bits'), false, 'server_max_window_bits needs a value');
});

t.test('an offer ws cannot express is skipped for the next; none offered, none made', async (t) => {
  t.equal(upstreamDeflateOffer(undefined), false);
  t.equal(upstreamDeflateOffer('x-webkit-deflate-frame'), false, 'another extension only');
  t.equal(upstreamDeflateOffer('permessage-deflate; unknown_param'), false);
  t.equal(upstreamDeflateOffer('permessage-deflate; server_no_context_takeover=1'), false, 'a flag with a value');
  t.equal(upstreamDeflateOffer('permessage-deflate; client_no_context_takeover=yes'), false);
  t.equal(upstreamDeflateOffer('permessage-deflate; server_no_context_takeover; server_no_context_takeover'), false, 'a repeated parameter');
  t.same(upstreamDeflateOffer('permessage-deflate; unknown_param, permessage-deflate; client_no_context_takeover'), { clientMaxWindowBits: false, clientNoContextTakeover: true }, 'the first one ws can express');
  t.throws(() => upstreamDeflateOffer('permessage-deflate; ='), 'a header that does not parse throws');
});

t.test("the server's answer is handed on only when it accepted deflate; protocols in the device's order", async (t) => {
  t.equal(acceptedDeflate('permessage-deflate; server_no_context_takeover'), 'permessage-deflate; server_no_context_takeover');
  t.equal(acceptedDeflate('  Permessage-Deflate'), '  Permessage-Deflate');
  t.equal(acceptedDeflate('permessage-deflated'), undefined, 'a longer name is another extension');
  t.equal(acceptedDeflate('x-webkit-deflate-frame'), undefined);
  t.equal(acceptedDeflate(undefined), undefined);
  t.same(offeredProtocols('mqtt, graphql-ws,chat'), ['mqtt', 'graphql-ws', 'chat']);
  t.same(offeredProtocols(undefined), []);
  t.throws(() => offeredProtocols('a, a'), 'a protocol offered twice does not parse');
});
