// Decoders' and the SMS detector's edges, one step either side (issue #23, planted bugs that survived): base64 of exactly
// the shortest length tried, an MMS header value running past the end, a protobuf fixed32 or fixed64 ending exactly at the message's end.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { encode } from '@msgpack/msgpack';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { makeFlow } from '../../helpers/flows.js';
import { parseMms } from '../../../src/inspect/decode/mms.js';
import { parseProtobuf } from '../../../src/inspect/decode/protobuf.js';
import { decodeBase64Candidate } from '../../../src/inspect/decode/strings.js';
import { nmeaPositions, positionOf, positionOfFieldPair } from '../../../src/inspect/detect/location.js';
import { smsAddressStrength, smsRecordByValues, smsRecordOf } from '../../../src/inspect/detect/sms.js';

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

t.test('a national SMS number has 5 to 15 digits in at most 20 characters', async (t) => {
  t.equal(smsAddressStrength('12345'), 1, '5 digits');
  t.equal(smsAddressStrength('1234'), 0, '4 digits');
  t.equal(smsAddressStrength('123456789012345'), 1, '15 digits');
  t.equal(smsAddressStrength('1234567890123456'), 0, '16 digits');
  t.equal(smsAddressStrength('12 34 56 78 90 12345'), 1, '20 characters');
  t.equal(smsAddressStrength('12 34 56 78 90 12 345'), 0, '21 characters');
  t.equal(smsAddressStrength('+33612345678'), 2, 'international');
});

const body = 'Rendez-vous demain';

t.test('an SMS record by its values: a millisecond date below 2e12, texts with letters only', async (t) => {
  t.same(smsRecordByValues({ 1: '+33612345678', 2: body, 3: 2e12 - 1 }), { address: '+33612345678', body, date: new Date(2e12 - 1).toISOString() });
  t.equal(smsRecordByValues({ 1: '+33612345678', 2: body, 3: 2e12 }), undefined, '2e12 is no millisecond date (nor seconds)');
  t.equal(smsRecordByValues({ 1: '+33612345678', 2: '2024', 3: body, 4: 1413131405000 })?.body, body, 'a number is not the text');
  t.equal(smsRecordByValues({ 1: '+33612345678', 2: '+33698765432', 3: body, 4: 1413131405000 })?.body, body, 'nor a second phone number');
});

t.test('an SMS record by its keys: an ISO date supports it, an unknown key does not', async (t) => {
  t.same(smsRecordOf({ address: '+33612345678', body, date: '2014-10-12 18:30:05' })?.address, '+33612345678', 'ISO date: 2 + 1');
  t.equal(smsRecordOf({ address: '+33612345678', body, colour: 'blue' }), undefined, 'an unknown key: 2 + 0');
  t.equal(smsRecordOf({ address: '+33612345678', body, date: '20141-10-12' }), undefined, 'not a date');
});

t.test('a position is refused when either coordinate is off the globe', async (t) => {
  t.same(positionOf({ lat: 48.8566, lon: 180 }), { lat: 48.8566, lon: 180, decimals: 0, how: 'lat/lon keys' }, 'longitude 180');
  t.equal(positionOf({ lat: 48.8566, lon: 180.0001 }), undefined, 'longitude past 180');
  t.equal(positionOf({ lat: 90.0001, lon: 2.3522 }), undefined, 'latitude past 90');
  t.equal(positionOf({ lat: -90.5, lon: -181.5 }), undefined, 'both');
});

t.test('two consecutive protobuf doubles are a position from four decimals each', async (t) => {
  t.same(positionOfFieldPair({ 1: 48.8566, 2: 2.3522 }), { lat: 48.8566, lon: 2.3522, decimals: 4, how: 'protobuf doubles' });
  t.equal(positionOfFieldPair({ 1: 48.857, 2: 2.3522 }), undefined, 'three decimals');
  t.equal(positionOfFieldPair({ 1: 48.8566, 2: 2.352 }), undefined, 'three decimals on the second');
});

/** An NMEA sentence with its XOR checksum. */
const nmea = (body: string): string => {
  let sum = 0;
  for (const c of body) sum ^= c.charCodeAt(0);
  return `$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}`;
};

t.test('NMEA: GGA and RMC place latitude and longitude in their own fields', async (t) => {
  const round = (p: { lat: number; lon: number }) => [Number(p.lat.toFixed(4)), Number(p.lon.toFixed(4))];
  const gga = nmeaPositions(nmea('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,'));
  t.same(gga.map(round), [[48.1173, 11.5167]]);
  const rmc = nmeaPositions(nmea('GPRMC,123519,A,4807.038,S,01131.000,W,022.4,084.4,230394,003.1,W'));
  t.same(rmc.map(round), [[-48.1173, -11.5167]]);
});

t.test('an MMS send-req needs a content type; a notification does not', async (t) => {
  const head = Buffer.concat([Buffer.from([0x8c, 0x80, 0x8d, 0x92, 0x97]), Buffer.from('+33612345678\0')]);
  t.same(parseMms(Buffer.concat([head, Buffer.from([0x84, 0x83])])), { type: 'send-req', to: ['+33612345678'], cc: [], parts: [] }, 'text/plain');
  t.equal(parseMms(head), undefined, 'no content type');
});

t.test('protobuf field numbers start at 1: a key of field 0 is no message', async (t) => {
  t.equal(parseProtobuf(Buffer.from([0x00, 0x01, 0x08, 0x01, 0x10, 0x02, 0x18, 0x03])), undefined);
  t.same(parseProtobuf(Buffer.from([0x08, 0x01, 0x10, 0x02, 0x18, 0x03, 0x20, 0x04])), { 1: 1, 2: 2, 3: 3, 4: 4 });
});

t.test('a photo as a binary value inside a msgpack map is looked into (the map walked, not kept whole)', async (t) => {
  const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));
  const body = Buffer.from(encode({ upload: { name: 'IMG_1.jpg', photo } }));
  const { drafts } = inspectFlow(makeFlow({ requestBody: body, requestHeaders: [['Content-Type', 'application/msgpack']] }), defaultDetectors);
  t.match(drafts.filter((d) => d.category === 'photo'), [{ evidence: { path: ['body', 'msgpack', 'msgpack:$.upload.photo'] } }]);
});

t.test('a call log date is milliseconds from 1e12 or seconds from 1e9, each below twice that', async (t) => {
  const datesOf = (dates: unknown[]): unknown[] => {
    const body = JSON.stringify({ calls: dates.map((date, i) => ({ number: `+3361234567${i}`, duration: 60, date, type: 1 })) });
    const { drafts } = inspectFlow(makeFlow({ requestBody: body, requestHeaders: [['Content-Type', 'application/json']] }), defaultDetectors);
    return ((drafts.find((d) => d.category === 'call-log')?.details as { calls?: Array<{ date?: string }> } | undefined)?.calls ?? []).map((c) => c.date);
  };
  t.same(datesOf([1413131405, 1413131405000]), ['2014-10-12T16:30:05.000Z', '2014-10-12T16:30:05.000Z'], 'seconds and milliseconds');
  t.same(datesOf([2e12 - 1, 1e12, 2e9 - 1, 1e9]), [new Date(2e12 - 1).toISOString(), new Date(1e12).toISOString(), new Date((2e9 - 1) * 1000).toISOString(), new Date(1e9 * 1000).toISOString()], 'the edges');
  t.same(datesOf([2e12, 2e9, 999_999_999]), [undefined, undefined, undefined], 'past them: no date (the type still makes it a call)');
});
