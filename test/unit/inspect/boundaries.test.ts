// Decoders' edges, one step either side (issue #23, planted bugs that survived): base64 of exactly
// the shortest length tried, an MMS header value running past the end, a protobuf fixed32 or fixed64 ending exactly at the message's end.

import t from 'tap';
import { parseMms } from '../../../src/inspect/decode/mms.js';
import { parseProtobuf } from '../../../src/inspect/decode/protobuf.js';
import { decodeBase64Candidate } from '../../../src/inspect/decode/strings.js';

t.test('base64 of exactly 16 characters is decoded; 15 or 12 are too short to try', async (t) => {
  const decoded = decodeBase64Candidate('SGVsbG8gd29ybGQh'); // "Hello world!"
  t.equal(decoded?.bytes.toString(), 'Hello world!');
  t.equal(decoded?.step, 'base64');
  t.equal(decodeBase64Candidate('SGVsbG8gd29ybGQ'), undefined, '15 characters');
  t.equal(decodeBase64Candidate('SGVsbG8gd29y'), undefined, '12 characters');
});

t.test('a fixed32 or fixed64 ending exactly at the end of the message is read; one byte short is no message', async (t) => {
  // Two fields: a message of one field under 8 bytes is too little to call protobuf.
  t.same(parseProtobuf(Buffer.from([0x08, 0x01, 0x15, 0x2a, 0, 0, 0])), { 1: 1, 2: 42 }, 'varint, then fixed32 as field 2');
  t.equal(parseProtobuf(Buffer.from([0x08, 0x01, 0x15, 0x2a, 0, 0])), undefined, 'fixed32 cut');
  t.same(parseProtobuf(Buffer.from([0x09, 0x2a, 0, 0, 0, 0, 0, 0, 0])), { 1: '42' }, 'fixed64, field 1');
  t.equal(parseProtobuf(Buffer.from([0x09, 0x2a, 0, 0, 0, 0, 0, 0])), undefined, 'fixed64 cut');
});

t.test('an MMS header whose value runs past the end of the message makes it no MMS', async (t) => {
  // m-notification-ind, version 1.2, To: +33612345678, then a header unknown to us with a value-length.
  const head = Buffer.concat([Buffer.from([0x8c, 0x82, 0x8d, 0x92, 0x97]), Buffer.from('+33612345678\0'), Buffer.from([0xa0])]);
  t.same(parseMms(Buffer.concat([head, Buffer.from([2, 1, 2])])), { type: 'notification-ind', to: ['+33612345678'], cc: [], parts: [] }, 'a value that fits');
  t.equal(parseMms(Buffer.concat([head, Buffer.from([3, 1, 2])])), undefined, 'one byte short');
  t.equal(parseMms(Buffer.concat([head, Buffer.from([30, 1, 2])])), undefined, 'far short');
});
