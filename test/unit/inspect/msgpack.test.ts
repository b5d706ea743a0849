import t from 'tap';
import crypto from 'node:crypto';
import { encode } from '@msgpack/msgpack';
import { parseMsgpack } from '../../../src/inspect/decode/msgpack.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { makeFlow } from '../../helpers/flows.js';

t.test('SMS records in msgpack are found like JSON ones', async (t) => {
  const body = Buffer.from(encode({ sms: [{ address: '+33612345678', body: 'Rendez-vous demain', date: 1413131405000, type: 1 }] }));
  const { drafts } = inspectFlow(makeFlow({ requestBody: body, requestHeaders: [['Content-Type', 'application/octet-stream']] }), defaultDetectors);
  t.match(drafts, [{ category: 'sms', summary: /^1 SMS with \+33612…/, evidence: { path: ['body', 'msgpack'] } }]);
});

t.test('the gate: exact consumption, a container head, no scalars', async (t) => {
  const good = Buffer.from(encode({ a: 1 }));
  t.ok(parseMsgpack(good));
  t.equal(parseMsgpack(Buffer.concat([good, Buffer.from([0])])), undefined, 'trailing byte');
  t.equal(parseMsgpack(Buffer.from([0x05])), undefined, 'a lone integer');
  t.equal(parseMsgpack(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])), undefined, 'a bomb header: 4 billion elements announced');
  let parsed = 0;
  for (let i = 0; i < 2000; i++) {
    const random = crypto.randomBytes(40);
    random[0] = 0x80 | (random[0]! & 0x0f);
    if (parseMsgpack(random)) parsed++;
  }
  t.ok(parsed < 40, `${parsed} of 2,000 random buffers with a map head parsed`);
});
