// The third round of the inspection corpus: IMEIs whose check digit does not match, browsing
// history whose keys say nothing, and SMS in protobuf and keyless rows with dates in seconds —
// each with the honest look-alikes that must stay quiet.

import zlib from 'node:zlib';
import type { Flow } from '../../src/model/flow.js';
import { body, makeFlow } from './flows.js';
import { pbField, pbFixed32, pbMessage } from './protobuf-writer.js';

export { pbField, pbFixed32, pbMessage };

const request = (bytes: Buffer | string, headers: Array<[string, string]> = [], url = 'https://api.example.com/sync', method = 'POST'): Flow => makeFlow({ requestBody: bytes, requestHeaders: headers, url, method });
const json = (value: unknown, url?: string): Flow => request(JSON.stringify(value), [['Content-Type', 'application/json']], url);
const protobuf = (bytes: Buffer, type = 'application/x-protobuf'): Flow => request(bytes, [['Content-Type', type]]);

const grpc = (message: Buffer): Buffer => { const head = Buffer.alloc(5); head.writeUInt32BE(message.length, 1); return Buffer.concat([head, message]); };

// 2014-10-12 18:30:05 UTC in seconds: the Redmi Note's era.
const SECONDS = 1413131405;

// An SMS row as a messaging app's sync would write it without a schema: number, text, seconds, box.
const smsSeconds = (address: string, text: string, seconds: number, box = 1): Buffer => pbMessage(pbField(1, address), pbField(2, text), pbField(3, seconds), pbField(4, box));
const smsDumpSeconds = pbMessage(pbField(1, 'device-42'), pbField(2, smsSeconds('+33612345678', 'Rendez-vous demain à 18h', SECONDS)), pbField(2, smsSeconds('+33612345678', 'OK, à demain', SECONDS + 100, 2)));
// The date as a google.protobuf.Timestamp message {seconds, nanos}, and no box type.
const smsTimestamp = pbMessage(pbField(1, pbMessage(pbField(1, '+8613800138000'), pbField(2, '明天下午三点见'), pbField(5, pbMessage(pbField(1, SECONDS), pbField(2, 512000000))))));
// The date as fixed32 seconds.
const smsFixed32 = pbMessage(pbField(3, pbMessage(pbField(1, '+447700900123'), pbField(2, 'Running late, see you at 7'), pbFixed32(3, SECONDS))));

const sites = [
  ['https://www.doctissimo.fr/sante/depression/symptomes', 'Dépression : les symptômes'],
  ['https://www.leboncoin.fr/voitures/offres', 'Voitures d\'occasion'],
  ['https://fr.wikipedia.org/wiki/Gare_de_Lyon', 'Gare de Lyon — Wikipédia'],
  ['https://www.seloger.com/annonces/achat/appartement/paris', 'Appartements à vendre Paris'],
] as const;

export const positives3: Array<{ name: string; flow: Flow; category: string; summary: RegExp; path?: string[] }> = [
  // IMEIs whose check digit does not match: reported at medium, said so.
  { name: 'an IMEI that fails Luhn under imei', flow: json({ imei: '353456789012345' }), category: 'identifier', summary: /^IMEI 35345678… under "imei": check digit does not match$/ },
  { name: 'a MediaTek IMEI that fails Luhn under deviceImei', flow: json({ deviceImei: '864321012345678', model: 'HM NOTE 1W', os: 'Android 4.4.2' }), category: 'identifier', summary: /^IMEI 86432101… under "deviceImei": check digit does not match$/ },
  { name: 'dual-SIM IMEI1/IMEI2 form fields failing Luhn', flow: request('IMEI1=864321012345678&IMEI2=864321012345686&ver=4.4.2', [['Content-Type', 'application/x-www-form-urlencoded']]), category: 'identifier', summary: /^IMEI 86432101… under "IMEI1" \(and 1 more\): check digit does not match$/ },
  { name: 'an IMEI failing Luhn in an X-Device-IMEI header', flow: request('{}', [['Content-Type', 'application/json'], ['X-Device-IMEI', '353456789012345']]), category: 'identifier', summary: /^IMEI 35345678… under "X-Device-IMEI": check digit does not match$/i, path: ['request-headers'] },
  // Browsing history whose keys say nothing.
  { name: 'visits with short keys {u, t, d} (seconds)', flow: json({ v: 1, h: sites.map(([u, t], i) => ({ u, t, d: SECONDS + i * 60 })) }), category: 'browsing', summary: /^4 pages visited on 4 sites incl\. doctissimo\.fr, leboncoin\.fr, wikipedia\.org, 'Dépression : les symptômes'$/ },
  { name: 'visits as keyless arrays [url, title, time]', flow: json({ sync: sites.slice(0, 3).map(([u, t], i) => [u, t, SECONDS + i * 60]) }), category: 'browsing', summary: /^3 pages visited on 3 sites incl\. doctissimo\.fr, leboncoin\.fr, wikipedia\.org/ },
  { name: 'visits with a time only, base64 in a form field', flow: request(`d=${encodeURIComponent(Buffer.from(JSON.stringify(sites.map(([u], i) => ({ a: u, b: (SECONDS + i) * 1000 })))).toString('base64'))}`, [['Content-Type', 'application/x-www-form-urlencoded']]), category: 'browsing', summary: /^4 pages visited on 4 sites/ },
  { name: 'visits with a title only, gzip\'d', flow: request(zlib.gzipSync(JSON.stringify({ r: sites.slice(1).map(([u, t]) => ({ x: u, y: t })) })), [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']]), category: 'browsing', summary: /^3 pages visited on 3 sites incl\. leboncoin\.fr/ },
  // SMS whose dates are seconds, without key names.
  { name: 'SMS in protobuf with seconds timestamps', flow: protobuf(smsDumpSeconds), category: 'sms', summary: /^2 SMS with \+33612…, 'Rendez-vous demain à 18h'$/ },
  { name: 'an SMS in protobuf with a Timestamp message', flow: protobuf(smsTimestamp), category: 'sms', summary: /^1 SMS with \+8613800…, '明天下午三点见'$/ },
  { name: 'an SMS in gRPC with fixed32 seconds', flow: protobuf(grpc(smsFixed32), 'application/grpc'), category: 'sms', summary: /^1 SMS with \+447700…, 'Running late, see you at 7'$/ },
  { name: 'SMS rows as arrays [address, body, seconds, type]', flow: json({ c: 2, rows: [['+33612345678', 'Rendez-vous demain à 18h', SECONDS, 1], ['+33612345678', 'OK, à demain', SECONDS + 100, 2]] }), category: 'sms', summary: /^2 SMS with \+33612…, 'Rendez-vous demain à 18h'$/ },
];

const newsFeed = JSON.stringify({ items: sites.map(([u, t], i) => ({ u, t, d: SECONDS + i * 60 })) });

export const negatives3: Array<{ name: string; flow: Flow }> = [
  // 15 digits that are not an IMEI, and IMEIs that are fillers.
  { name: '15 digits failing Luhn under order_number', flow: json({ order_number: '353456789012345', total: 19.99 }) },
  { name: '15 digits failing Luhn under tracking_number', flow: json({ tracking_number: '864321012345678', carrier: 'colissimo' }) },
  { name: '15 digits failing Luhn under device_id (a generic key)', flow: json({ device_id: '353456789012345' }) },
  { name: 'a millisecond timestamp (13 digits) under imei', flow: json({ imei: '1413131405000' }) },
  { name: 'the sequential filler 123456789012345 under imei', flow: json({ imei: '123456789012345' }) },
  { name: 'the repeated filler 111111111111111 under IMEI1', flow: json({ IMEI1: '111111111111111' }) },
  { name: 'the descending filler 987654321098765 under deviceImei', flow: json({ deviceImei: '987654321098765' }) },
  { name: '14 digits under imei (no check digit)', flow: json({ imei: '35345678901234' }) },
  { name: '16 digits under imei', flow: json({ imei: '3534567890123456' }) },
  // URL lists that are not someone's browsing.
  { name: 'asset URLs of one site with short keys', flow: json({ m: [{ u: 'https://www.shop.example/static/app.3f2a.js', v: 3, d: SECONDS }, { u: 'https://www.shop.example/catalogue/shoes', v: 1, d: SECONDS }, { u: 'https://www.shop.example/catalogue/bags', v: 1, d: SECONDS }] }) },
  { name: 'image URLs of several hosts with sizes and captions', flow: json({ g: [{ s: 'https://images.unsplash.com/photo-1501594907352', w: 640, h: 480, a: 'A cat on a sofa' }, { s: 'https://i.imgur.com/Xy7abc', w: 800, h: 600, a: 'Sunset over the sea' }, { s: 'https://pbs.twimg.com/media/ExAbC', w: 1200, h: 675, a: 'A city at night' }] }) },
  { name: 'a sitemap of one site with modification times', flow: json({ urlset: [{ loc: 'https://www.example.org/', lastmod: '2014-10-12T18:30:05Z' }, { loc: 'https://www.example.org/about', lastmod: '2014-10-11T10:00:00Z' }, { loc: 'https://www.example.org/blog/first-post', lastmod: '2014-10-10T09:00:00Z' }] }) },
  { name: 'a list of SDK API endpoints with times', flow: json({ q: [{ e: 'https://app.adjust.com/session', m: 'POST', t: SECONDS }, { e: 'https://t.appsflyer.com/api/v4/androidevent', m: 'POST', t: SECONDS + 5 }, { e: 'https://graph.facebook.com/v2.5/activities', m: 'POST', t: SECONDS + 9 }] }) },
  { name: 'app-store links of an app list', flow: json({ l: [{ p: 'com.whatsapp', u: 'https://play.google.com/store/apps/details?id=com.whatsapp', n: 'WhatsApp Messenger', i: SECONDS }, { p: 'com.spotify.music', u: 'https://apps.apple.com/app/spotify-music/id324684580', n: 'Spotify Music', i: SECONDS }, { p: 'com.ubercab', u: 'https://appgallery.huawei.com/app/C101883', n: 'Uber Rides', i: SECONDS }] }) },
  { name: 'URLs with only ids', flow: json({ r: sites.map(([u], i) => ({ u, i: 4521 + i, k: `a${i}` })) }) },
  { name: 'a news feed the server sends back (titles and times on several sites)', flow: makeFlow({ url: 'https://api.example.com/feed', method: 'GET', response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [['Content-Type', 'application/json']], body: body(newsFeed) } }) },
  // Keyless records with seconds that are not SMS.
  { name: 'a chat protocol in protobuf without phone numbers', flow: protobuf(pbMessage(pbField(1, pbMessage(pbField(1, 'user:4521'), pbField(2, 'See you tomorrow at six'), pbField(3, SECONDS), pbField(4, 1))), pbField(1, pbMessage(pbField(1, 'user:4522'), pbField(2, 'Great, see you'), pbField(3, SECONDS + 30), pbField(4, 2))))) },
  { name: 'log lines in protobuf with seconds timestamps', flow: protobuf(pbMessage(pbField(1, pbMessage(pbField(1, 'I/SyncManager'), pbField(2, 'sync finished in 120 ms'), pbField(3, SECONDS))), pbField(1, pbMessage(pbField(1, 'W/SyncManager'), pbField(2, 'retrying upload after timeout'), pbField(3, SECONDS + 4))))) },
  { name: 'log tuples [tag, text, seconds, level]', flow: json({ logs: [['net', 'connection reset by peer', SECONDS, 5], ['db', 'vacuum done in 3 s', SECONDS + 60, 4]] }) },
];
