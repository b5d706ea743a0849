// The second round of the inspection corpus: archives and databases, adb dumps, mail and contact
// APIs, single SMS events and abbreviated keys, identifiers in headers and cookies, protobuf
// doubles, browsing history and app inventories — each with honest look-alikes that must stay quiet.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { zipSync } from 'fflate';
import initSqlJs from 'sql.js';
import type { Flow } from '../../src/model/flow.js';
import { makeFlow } from './flows.js';

const photo = fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'photos', 'camera.jpg'));
const icon = fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'photos', 'app_icon.png'));
const SQL = await initSqlJs();

const request = (bytes: Buffer | string, headers: Array<[string, string]> = [], url = 'https://api.example.com/sync', method = 'POST'): Flow => makeFlow({ requestBody: bytes, requestHeaders: headers, url, method });
const json = (value: unknown, url?: string): Flow => request(JSON.stringify(value), [['Content-Type', 'application/json']], url);
const ws = (text: string): Flow => makeFlow({ kind: 'websocket', scheme: 'wss', messages: [{ protocol: 'websocket', time: '2026-11-27T18:30:11.000Z', fromClient: true, binary: false, data: Buffer.from(text), totalBytes: text.length }] });

/** A ustar archive of the given files (what `tar cf` writes, checksums included). */
export function tarOf(files: Record<string, Buffer | string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const header = Buffer.alloc(512);
    header.write(name, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'latin1');
    header.write('0001750\0', 108, 'latin1');
    header.write('0001750\0', 116, 'latin1');
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    header.write(`${Math.floor(Date.parse('2014-10-12T18:30:05Z') / 1000).toString(8).padStart(11, '0')}\0`, 136, 'latin1');
    header.write('0', 156, 'latin1');
    header.write('ustar\0' + '00', 257, 'latin1');
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function database(sql: string): Buffer {
  const db = new SQL.Database();
  db.run(sql);
  const bytes = Buffer.from(db.export());
  db.close();
  return bytes;
}

const smsStore = database(`CREATE TABLE android_metadata (locale TEXT); INSERT INTO android_metadata VALUES ('fr_FR');
  CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER, date INTEGER, date_sent INTEGER, read INTEGER, status INTEGER, type INTEGER, body TEXT, service_center TEXT, seen INTEGER);
  INSERT INTO sms VALUES (41, 3, '+33612345678', NULL, 1413131405000, 1413131404000, 1, -1, 1, 'Rendez-vous demain à 18h devant la gare', '+33609001390', 1), (42, 3, '+33612345678', NULL, 1413131505000, 0, 1, -1, 2, 'OK, à demain', NULL, 1);
  CREATE TABLE threads (_id INTEGER PRIMARY KEY, date INTEGER, message_count INTEGER, recipient_ids TEXT, snippet TEXT);
  INSERT INTO threads VALUES (3, 1413131505000, 2, '1', 'OK, à demain');`);
const contactsStore = database(`CREATE TABLE mimetypes (_id INTEGER PRIMARY KEY, mimetype TEXT);
  INSERT INTO mimetypes VALUES (5, 'vnd.android.cursor.item/phone_v2'), (7, 'vnd.android.cursor.item/name'), (1, 'vnd.android.cursor.item/email_v2');
  CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY, account_type TEXT, display_name TEXT);
  INSERT INTO raw_contacts VALUES (1, 'com.google', 'Jean Dupont'), (2, 'com.google', 'Marie Curie');
  CREATE TABLE data (_id INTEGER PRIMARY KEY, raw_contact_id INTEGER, mimetype_id INTEGER, data1 TEXT, data2 TEXT);
  INSERT INTO data VALUES (1, 1, 7, 'Jean Dupont', 'Jean'), (2, 1, 5, '+33 6 12 34 56 78', '2'), (3, 2, 7, 'Marie Curie', 'Marie'), (4, 2, 1, 'marie@example.fr', '1'), (5, 2, 5, '+33 6 98 76 54 32', '2');`);
const callStore = database(`CREATE TABLE calls (_id INTEGER PRIMARY KEY, number TEXT, date INTEGER, duration INTEGER, type INTEGER, name TEXT);
  INSERT INTO calls VALUES (1, '+33612345678', 1413131405000, 184, 1, 'Jean Dupont'), (2, '+33698765432', 1413141405000, 0, 3, 'Marie Curie');`);
const settingsStore = database(`CREATE TABLE android_metadata (locale TEXT); INSERT INTO android_metadata VALUES ('en_US');
  CREATE TABLE prefs (key TEXT PRIMARY KEY, value TEXT, updated INTEGER);
  INSERT INTO prefs VALUES ('theme', 'dark', 1413131405000), ('sync_interval', '3600', 1413131405000), ('last_screen', 'settings', 1413131405000), ('notifications', 'true', 1413131405000);
  CREATE TABLE feature_flags (name TEXT, enabled INTEGER, rollout REAL); INSERT INTO feature_flags VALUES ('radar', 1, 0.5), ('alerts', 0, 0.1);`);
const cacheStore = database(`CREATE TABLE http_cache (url TEXT, etag TEXT, fetched INTEGER, size INTEGER);
  INSERT INTO http_cache VALUES ('https://api.example.com/v1/config', 'W/"a1"', 1413131405000, 812), ('https://api.example.com/v1/feed?page=2', 'W/"b2"', 1413131505000, 40213), ('https://static.example.com/img/logo.png', 'W/"c3"', 1413131605000, 5012);`);

const adbSms = [
  'Row: 0 _id=41, thread_id=3, address=+33612345678, person=NULL, date=1413131405000, date_sent=1413131404000, protocol=0, read=1, status=-1, type=1, reply_path_present=0, subject=NULL, body=Rendez-vous demain, à 18h devant la gare, service_center=+33609001390, locked=0, sub_id=1, error_code=0, creator=com.android.messaging, seen=1',
  'Row: 1 _id=42, thread_id=3, address=+33612345678, person=NULL, date=1413131505000, date_sent=0, protocol=NULL, read=1, status=-1, type=2, reply_path_present=NULL, subject=NULL, body=OK, service_center=NULL, locked=0, sub_id=1, error_code=0, creator=com.android.messaging, seen=1',
].join('\n');
const adbContacts = [
  'Row: 0 _id=1, raw_contact_id=1, display_name=Jean Dupont, data1=+33 6 12 34 56 78, data2=2, mimetype=vnd.android.cursor.item/phone_v2',
  'Row: 1 _id=5, raw_contact_id=2, display_name=Marie Curie, data1=+33 6 98 76 54 32, data2=2, mimetype=vnd.android.cursor.item/phone_v2',
].join('\n');
const adbSettings = [
  'Row: 0 _id=1, name=screen_brightness, value=102',
  'Row: 1 _id=2, name=wifi_on, value=1',
  'Row: 2 _id=3, name=time_12_24, value=24',
].join('\n');

const jmap = { using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail', 'urn:ietf:params:jmap:submission'], methodCalls: [['Email/set', { accountId: 'u1', create: { draft: { mailboxIds: { m1: true }, keywords: { $draft: true }, from: [{ name: 'Jane Doe', email: 'jane@example.com' }], to: [{ name: 'Bob', email: 'bob@example.org' }], subject: 'Rendez-vous demain', bodyValues: { 1: { value: 'See you at the station at 6.', isTruncated: false } }, textBody: [{ partId: '1', type: 'text/plain' }] } } }, 'c0'], ['EmailSubmission/set', { accountId: 'u1', create: { s: { emailId: '#draft', identityId: 'i1' } } }, 'c1']] };
const graph = { message: { subject: 'Rendez-vous demain', body: { contentType: 'Text', content: 'See you at the station at 6.' }, toRecipients: [{ emailAddress: { address: 'bob@example.org', name: 'Bob' } }], ccRecipients: [] }, saveToSentItems: 'true' };
const outlook = { Message: { Subject: 'Rendez-vous demain', Body: { ContentType: 'Text', Content: 'See you at the station at 6.' }, ToRecipients: [{ EmailAddress: { Address: 'bob@example.org' } }] }, SaveToSentItems: 'true' };
const ews = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><soap:Body><m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items><t:Message><t:Subject>Rendez-vous demain</t:Subject><t:Body BodyType="Text">See you at the station at 6.</t:Body><t:ToRecipients><t:Mailbox><t:EmailAddress>bob@example.org</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message></m:Items></m:CreateItem></soap:Body></soap:Envelope>`;
const gmailParts = { message: { threadId: 't1', payload: { mimeType: 'text/plain', headers: [{ name: 'From', value: 'Jane Doe <jane@example.com>' }, { name: 'To', value: 'bob@example.org' }, { name: 'Subject', value: 'Rendez-vous demain' }], body: { size: 28, data: Buffer.from('See you at the station at 6.').toString('base64url') } } } };
const peoplePerson = { names: [{ displayName: 'Jean Dupont', givenName: 'Jean', familyName: 'Dupont' }], phoneNumbers: [{ value: '+33 6 12 34 56 78', type: 'mobile' }], emailAddresses: [{ value: 'jean@example.fr' }] };
const peopleBatch = { contacts: [{ contactPerson: peoplePerson }, { contactPerson: { names: [{ displayName: 'Marie Curie' }], phoneNumbers: [{ value: '+33 6 98 76 54 32' }] } }], readMask: 'names,phoneNumbers' };
const vcard = 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:4f1c\r\nFN:Jean Dupont\r\nN:Dupont;Jean;;;\r\nTEL;TYPE=CELL:+33 6 12 34 56 78\r\nEND:VCARD\r\n';

function protobufPosition(): Buffer {
  // message Fix { string provider = 1; double latitude = 2; double longitude = 3; int64 time = 4; }
  const lat = Buffer.alloc(8);
  lat.writeDoubleLE(48.8530123);
  const lon = Buffer.alloc(8);
  lon.writeDoubleLE(2.3499021);
  const time = [0xe8, 0xb1, 0x8a, 0xe1, 0x90, 0x29]; // 1413131405544 as a varint (approximately; any varint)
  return Buffer.concat([Buffer.from([0x0a, 0x03]), Buffer.from('gps'), Buffer.from([0x11]), lat, Buffer.from([0x19]), lon, Buffer.from([0x20, ...time])]);
}
function protobufIds(): Buffer {
  // fixed64 ids and checksums: integers, never positions.
  const parts: Buffer[] = [];
  for (const [field, value] of [[1, 123456789012345n], [2, 987654321098765n], [3, 0x4005bf0a8b145769n + 1n]] as const) {
    const b = Buffer.alloc(9);
    b[0] = (field << 3) | 1;
    b.writeBigUInt64LE(value, 1);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

const history = [
  { url: 'https://www.doctissimo.fr/sante/depression/symptomes', title: 'Dépression : les symptômes', visit_time: 1413131405000, visit_count: 3 },
  { url: 'https://www.leboncoin.fr/voitures/offres', title: 'Voitures d\'occasion', visit_time: 1413131505000, visit_count: 1 },
  { url: 'https://fr.wikipedia.org/wiki/Gare_de_Lyon', title: 'Gare de Lyon — Wikipédia', visit_time: 1413131605000, visit_count: 1 },
  { url: 'https://www.seloger.com/annonces/achat/appartement/paris', title: 'Appartements à vendre Paris', visit_time: 1413131705000, visit_count: 2 },
];
const apps = ['com.whatsapp', 'com.grindrapp.android', 'fr.doctolib.www', 'com.google.android.apps.maps', 'com.facebook.katana', 'com.instagram.android', 'org.telegram.messenger', 'com.bnpparibas.mescomptes', 'com.spotify.music', 'com.ubercab', 'com.clue.android', 'com.netflix.mediaclient', 'fr.sncf.sncfconnect', 'com.tinder'];

export const positives2: Array<{ name: string; flow: Flow; category: string; summary: RegExp; path?: string[] }> = [
  { name: 'a ZIP of the camera folder (deflate)', flow: request(Buffer.from(zipSync({ 'DCIM/Camera/IMG_20141012_183005.jpg': photo, 'DCIM/Camera/.nomedia': Buffer.alloc(0) })), [['Content-Type', 'application/zip']], 'https://backup.example.com/v1/upload'), category: 'photo', summary: /GPS 48\.853 N/, path: ['body', 'zip:DCIM/Camera/IMG_20141012_183005.jpg', 'image/jpeg'] },
  { name: 'a stored ZIP inside a multipart upload', flow: request(Buffer.concat([Buffer.from('--zz\r\nContent-Disposition: form-data; name="archive"; filename="backup.zip"\r\nContent-Type: application/zip\r\n\r\n'), Buffer.from(zipSync({ 'IMG_20141012_183005.jpg': [photo, { level: 0 }] })), Buffer.from('\r\n--zz--\r\n')]), [['Content-Type', 'multipart/form-data; boundary=zz']]), category: 'photo', summary: /GPS 48\.853 N/, path: ['body', 'multipart:archive', 'zip:IMG_20141012_183005.jpg', 'image/jpeg'] },
  { name: 'a tar.gz of the camera folder', flow: request(zlib.gzipSync(tarOf({ 'DCIM/Camera/IMG_20141012_183005.jpg': photo, 'DCIM/Camera/info.txt': 'camera roll' })), [['Content-Type', 'application/octet-stream']]), category: 'photo', summary: /GPS 48\.853 N/, path: ['body', 'gzip', 'tar:DCIM/Camera/IMG_20141012_183005.jpg', 'image/jpeg'] },
  { name: 'a SQLite SMS store (mmssms.db)', flow: request(smsStore, [['Content-Type', 'application/octet-stream']], 'https://backup.example.com/v1/db/mmssms.db'), category: 'sms', summary: /^2 SMS with \+33612…, 'Rendez-vous demain à 18h devant la gare'$/, path: ['body', 'sqlite:sms'] },
  { name: 'a SQLite contacts store (contacts2.db)', flow: request(contactsStore, [['Content-Type', 'application/x-sqlite3']]), category: 'contact', summary: /^2 contacts \(address book\) with 2 phone numbers, e\.g\. 'Jean Dupont'$/, path: ['body', 'sqlite:contacts2-people'] },
  { name: 'a SQLite call log (calllog.db) inside a ZIP', flow: request(Buffer.from(zipSync({ 'databases/calllog.db': callStore })), [['Content-Type', 'application/zip']]), category: 'call-log', summary: /^2 calls/, path: ['body', 'zip:databases/calllog.db', 'sqlite:calls'] },
  { name: 'an adb content-query dump of SMS', flow: request(adbSms, [['Content-Type', 'text/plain']], 'https://diag.example.com/upload'), category: 'sms', summary: /^2 SMS with \+33612…/, path: ['body', 'text-rows'] },
  { name: 'an adb content-query dump of contacts, gzip\'d', flow: request(zlib.gzipSync(adbContacts), [['Content-Type', 'text/plain'], ['Content-Encoding', 'gzip']]), category: 'contact', summary: /^2 contacts/ },
  { name: 'a JMAP Email/set', flow: json(jmap, 'https://jmap.example.com/api/'), category: 'mail', summary: /^1 mail through JMAP from jane@example\.com to bob@example\.org, 'Rendez-vous demain'$/ },
  { name: 'a Microsoft Graph sendMail', flow: json(graph, 'https://graph.microsoft.com/v1.0/me/sendMail'), category: 'mail', summary: /^1 mail through Microsoft Graph \/ Outlook from the signed-in account to bob@example\.org, 'Rendez-vous demain'$/ },
  { name: 'an Outlook REST sendmail', flow: json(outlook, 'https://outlook.office.com/api/v2.0/me/sendmail'), category: 'mail', summary: /^1 mail through Microsoft Graph \/ Outlook .*to bob@example\.org/ },
  { name: 'an EWS CreateItem (SOAP)', flow: request(ews, [['Content-Type', 'text/xml; charset=utf-8']], 'https://mail.corp.example/EWS/Exchange.asmx'), category: 'mail', summary: /^1 mail through Exchange Web Services .*to bob@example\.org, 'Rendez-vous demain'$/ },
  { name: 'a Gmail API message with headers and a body part', flow: json(gmailParts, 'https://gmail.googleapis.com/gmail/v1/users/me/messages'), category: 'mail', summary: /^1 mail through the Gmail API from jane@example\.com to bob@example\.org/ },
  { name: 'a People API createContact', flow: json(peoplePerson, 'https://people.googleapis.com/v1/people:createContact'), category: 'contact', summary: /^1 contact \(address book\) with 1 phone number, e\.g\. 'Jean Dupont'$/ },
  { name: 'a People API batchCreateContacts', flow: json(peopleBatch, 'https://people.googleapis.com/v1/people:batchCreateContacts'), category: 'contact', summary: /^2 contacts/ },
  { name: 'a CardDAV PUT of a vCard', flow: request(vcard, [['Content-Type', 'text/vcard; charset=utf-8']], 'https://dav.example.com/addressbooks/jane/contacts/4f1c.vcf', 'PUT'), category: 'contact', summary: /^1 contact \(vCard\)/ },
  { name: 'one SMS as an event (sender/content/ts)', flow: json({ event: 'sms_received', sender: '+33612345678', content: 'Rendez-vous demain à 18h', ts: 1413131405000 }), category: 'sms', summary: /^1 SMS with \+33612…/ },
  { name: 'one SMS as form fields (sms_from/sms_body)', flow: request('sms_from=%2B33612345678&sms_body=Rendez-vous+demain&sms_time=1413131405', [['Content-Type', 'application/x-www-form-urlencoded']]), category: 'sms', summary: /^1 SMS/ },
  { name: 'an event naming SMS, in a WebSocket message', flow: ws(JSON.stringify({ type: 'sms', from: '+33612345678', text: 'Rendez-vous demain à 18h' })), category: 'sms', summary: /^1 SMS/ },
  { name: 'SMS rows with abbreviated keys', flow: json({ v: 2, r: [{ a: '+33612345678', b: 'Rendez-vous demain à 18h', d: 1413131405000, t: 1 }, { a: '+33612345678', b: 'OK, à demain', d: 1413131505000, t: 2 }] }), category: 'sms', summary: /^2 SMS/ },
  { name: 'an IMEI in an X-Device-IMEI header', flow: request('{}', [['Content-Type', 'application/json'], ['X-Device-IMEI', '353456789012348']]), category: 'identifier', summary: /^IMEI 35345678… under "X-Device-IMEI"$/i, path: ['request-headers'] },
  { name: 'an advertising ID in a cookie', flow: request('', [['Cookie', 'sid=abc; gaid=38400000-8cf0-11bd-b23e-10b96e40000d; lang=fr']], 'https://ads.example.com/bid', 'GET'), category: 'identifier', summary: /^advertising ID 38400000-8cf0-11bd… under "gaid"$/, path: ['cookie'] },
  { name: 'a position as protobuf doubles', flow: request(protobufPosition(), [['Content-Type', 'application/x-protobuf']]), category: 'location', summary: /^Position 48\.8530, 2\.3499 \(±\d+ m, protobuf doubles\)$/ },
  { name: 'a browsing history list', flow: json({ device: 'x', history }), category: 'browsing', summary: /^4 pages visited on 4 sites incl\. doctissimo\.fr, leboncoin\.fr, wikipedia\.org, 'Dépression : les symptômes'$/ },
  { name: 'visited URLs base64-encoded in an event (the 2020 browser case)', flow: json({ event: 'browse_history', incognito: true, data: Buffer.from(JSON.stringify(history.slice(0, 2).map((h) => ({ url: h.url, time: h.visit_time })))).toString('base64') }), category: 'browsing', summary: /^2 pages visited on 2 sites incl\. doctissimo\.fr, leboncoin\.fr$/ },
  { name: 'search queries with times', flow: json({ searches: [{ query: 'symptômes dépression', time: 1413131405000 }, { query: 'avocat divorce paris', time: 1413131505000 }] }), category: 'browsing', summary: /^2 search queries incl\. 'symptômes dépression', 'avocat divorce paris'$/ },
  { name: 'an inventory of installed apps', flow: json({ imei_hash: 'x', installed: apps.map((p, i) => ({ packageName: p, versionCode: 100 + i, firstInstallTime: 1413131405000 })) }), category: 'app-list', summary: /^14 apps incl\. com\.grindrapp\.android, fr\.doctolib\.www, org\.telegram\.messenger$/ },
  { name: '`pm list packages` output', flow: request(apps.map((p) => `package:${p}`).join('\n'), [['Content-Type', 'text/plain']]), category: 'app-list', summary: /^14 apps incl\. com\.grindrapp\.android/ },
];

const assets = { version: 3, files: ['https://cdn.example.com/app.3f2a.js', 'https://cdn.example.com/app.3f2a.css', 'https://fonts.gstatic.com/s/roboto/v30/x.woff2', 'https://images.example-cdn.net/logo.png', 'https://static.other.org/icons/menu.svg'] };
const endpoints = { endpoints: [{ id: 'primary', url: 'https://api.example.com/v2' }, { id: 'backup', url: 'https://api.example-backup.net/v2' }, { id: 'metrics', url: 'https://metrics.vendor.io/collect' }, { id: 'crash', url: 'https://crash.reporter.org/submit' }] };
const ownPages = { recent: [{ url: 'https://www.example.com/products/123', title: 'Blue shoes', time: 1413131405000 }, { url: 'https://example.com/cart', title: 'Your cart', time: 1413131505000 }, { url: 'https://m.example.com/help', title: 'Help', time: 1413131605000 }] };
const modules = { modules: ['com.myapp.core', 'com.myapp.ui', 'com.myapp.network', 'com.myapp.db', 'com.myapp.auth', 'com.myapp.sync', 'com.myapp.maps', 'com.myapp.chat', 'com.myapp.billing', 'com.myapp.analytics', 'com.myapp.push', 'com.google.firebase'] };
const hosts = { allow: ['api.example.com', 'cdn.example.net', 'images.vendor.io', 'metrics.tracker.org', 'ads.network.com', 'push.example.fr', 'auth.example.de', 'static.example.co.uk', 'video.example.tv', 'maps.example.jp', 'chat.example.cn', 'pay.example.ru'] };
const stack = { error: 'NullPointerException', frames: ['com.myapp.ui.MainActivity', 'android.app.Activity', 'android.os.Handler', 'com.google.android.gms.tasks.Task', 'okhttp3.RealCall', 'kotlinx.coroutines.DispatchedTask', 'androidx.fragment.app.Fragment', 'io.reactivex.Observable', 'dagger.internal.DoubleCheck', 'retrofit2.OkHttpCall', 'com.facebook.react.ReactActivity', 'org.chromium.base.TraceEvent'] };

export const negatives2: Array<{ name: string; flow: Flow }> = [
  { name: 'an app-log ZIP (logcat text)', flow: request(Buffer.from(zipSync({ 'logs/app.log': Buffer.from('2026-11-27 18:30:11.512 I/MainActivity: onResume\n2026-11-27 18:30:12.001 D/Sync: 12 items\n'.repeat(40)), 'logs/build.txt': Buffer.from('versionName=4.2.1\nversionCode=421\n') })), [['Content-Type', 'application/zip']]) },
  { name: 'a tar of source files', flow: request(tarOf({ 'src/main.c': '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n', 'README': 'build with make\n' }), [['Content-Type', 'application/x-tar']]) },
  { name: 'a settings database', flow: request(settingsStore, [['Content-Type', 'application/octet-stream']]) },
  { name: 'an HTTP cache database of the app\'s own URLs', flow: request(cacheStore, [['Content-Type', 'application/octet-stream']]) },
  { name: 'an adb dump of system settings', flow: request(adbSettings, [['Content-Type', 'text/plain']]) },
  { name: 'key=value log lines that are not rows', flow: request('level=info, msg=started, took=12ms\nlevel=debug, msg=cache hit\n', [['Content-Type', 'text/plain']]) },
  { name: 'a support form to a team name (not an address)', flow: json({ to: 'support', subject: 'App crashes on start', body: 'Since the update the app closes.' }) },
  { name: 'a notification template with subject and body', flow: json({ template: 'order_shipped', subject: 'Your order {{order}} has shipped', body: 'Track it at {{link}}', channel: 'push' }) },
  { name: 'a mailing-list preference object', flow: json({ email: { newsletter: true, frequency: 'weekly' }, to: 'all', title: 'Preferences' }) },
  { name: 'a user profile (not an address book)', flow: json({ user: { name: 'Jane Doe', email: 'jane@example.com', plan: 'pro' } }) },
  { name: 'People API list request fields', flow: json({ personFields: 'names,phoneNumbers,emailAddresses', pageSize: 100, sources: ['READ_SOURCE_TYPE_CONTACT'] }) },
  { name: 'a support bot chat with abbreviated keys', flow: json({ m: [{ a: 'bot', b: 'Hi! How can we help you today?', d: 1413131405000, t: 1 }, { a: 'bot', b: 'Tap a topic below.', d: 1413131406000, t: 1 }] }) },
  { name: 'a notification event with a type code', flow: json({ n: [{ i: 'n-77', b: 'New episode available', d: 1413131405000, t: 2 }] }) },
  { name: 'an SMS-permission analytics event without a message', flow: json({ event: 'sms_permission_granted', screen: 'onboarding', ts: 1413131405000 }) },
  { name: 'a chat message to a named channel', flow: ws(JSON.stringify({ type: 'chat', from: 'support-team', text: 'We are looking into it', ts: 1413131405000 })) },
  { name: 'routine request headers (User-Agent, a request id)', flow: request('{}', [['Content-Type', 'application/json'], ['User-Agent', 'okhttp/4.12.0'], ['X-Request-Id', '8d7f6e5c-4b3a-2910-8f7e-6d5c4b3a2910'], ['X-App-Version', '4.2.1']]) },
  { name: 'session cookies', flow: request('', [['Cookie', 'sid=9f8e7d6c5b4a; csrftoken=abc123; theme=dark']], 'https://www.example.com/', 'GET') },
  { name: 'protobuf ids in fixed64 fields', flow: request(protobufIds(), [['Content-Type', 'application/x-protobuf']]) },
  { name: 'an asset manifest of scripts, styles and images', flow: json(assets) },
  { name: 'an endpoint list on several domains', flow: json(endpoints) },
  { name: 'the app\'s own pages with titles and times', flow: json(ownPages, 'https://api.example.com/recent') },
  { name: 'an app\'s list of its own modules', flow: json(modules) },
  { name: 'a host allow-list', flow: json(hosts) },
  { name: 'class names of a stack trace', flow: json(stack) },
  { name: 'a few well-known SDK package names (not an inventory)', flow: json({ sdks: ['com.google.firebase', 'com.facebook.sdk', 'com.appsflyer'] }) },
  { name: 'a single search box value without a time', flow: json({ q: 'pizza near me', page: 1 }) },
  { name: 'a WebSocket heartbeat with a URL', flow: ws(JSON.stringify({ op: 'ping', url: 'wss://rt.example.com/socket', t: 1413131405000 })) },
  { name: 'an icon pack ZIP', flow: request(Buffer.from(zipSync({ 'icons/app_icon.png': icon, 'icons/app_icon@2x.png': icon })), [['Content-Type', 'application/zip']]) },
  { name: 'city-level whole-degree coordinates', flow: json({ city: 'Paris', lat: 48, lon: 2 }) },
  { name: 'a delivery zone polygon (not a point)', flow: json({ type: 'Polygon', coordinates: [[[2.2241, 48.8156], [2.4699, 48.8156], [2.4699, 48.9022], [2.2241, 48.8156]]] }) },
  { name: 'NMEA with a bad checksum', flow: request('$GPGGA,183005.00,4851.1800,N,00221.0000,E,1,08,0.9,35.0,M,47.0,M,,*00\r\n', [['Content-Type', 'text/plain']]) },
  { name: 'app log entries with message, time and level', flow: json({ logs: [{ level: 'info', message: 'Sync done in 120 ms', time: 1413131405000, type: 1 }, { level: 'warn', message: 'Retrying upload', time: 1413131406000, type: 2 }] }) },
  { name: 'a crash report with model and OS only', flow: json({ crash: { model: 'Redmi Note', os: 'Android 4.4', app: '4.2.1', thread: 'main', install_id: '5b0c1e7a-93c4-4d1c-8f7e-6d5c4b3a2910' } }) },
  { name: 'an IMSI with an impossible country code', flow: json({ imsi: '999010123456789' }) },
  { name: 'the zeroed advertising ID of limited ad tracking', flow: json({ gaid: '00000000-0000-0000-0000-000000000000' }) },
  { name: 'the placeholder MAC address Android reports', flow: json({ wifi_mac: '02:00:00:00:00:00' }) },
  { name: 'country calling codes', flow: json({ codes: [{ code: '+33', country: 'FR' }, { code: '+49', country: 'DE' }, { code: '+86', country: 'CN' }] }) },
  { name: 'a protobuf config of text fields', flow: request(Buffer.concat([Buffer.from([0x0a, 0x05]), Buffer.from('theme'), Buffer.from([0x12, 0x04]), Buffer.from('dark'), Buffer.from([0x18, 0x90, 0x1c])]), [['Content-Type', 'application/x-protobuf']]) },
  { name: 'an HTML article with links to many sites', flow: request('<html><body><a href="https://lemonde.fr/a">A</a> <a href="https://bbc.co.uk/b">B</a> <a href="https://nytimes.com/c">C</a></body></html>', [['Content-Type', 'text/html']]) },
  { name: 'a mail-settings object with a server address and a subject line', flow: json({ smtp: { host: 'smtp.example.com', from: 'noreply@example.com', port: 587 }, digest: { subject: 'Your weekly digest' } }) },
  { name: 'a translation table with from/to/text', flow: json({ strings: [{ from: 'en', to: 'fr', text: 'Good morning', ts: 1413131405000 }, { from: 'en', to: 'de', text: 'Good night', ts: 1413131405000 }] }) },
  { name: 'a list of SDK endpoints with timestamps', flow: json({ sdks: [{ package: 'com.appsflyer', url: 'https://t.appsflyer.com', lastSync: 1413131405000 }, { package: 'com.adjust.sdk', url: 'https://app.adjust.com', lastSync: 1413131405000 }] }) },
  { name: 'a settings table dump with phone-like numbers', flow: request(['Row: 0 _id=1, name=volume_ring, value=5', 'Row: 1 _id=2, name=screen_off_timeout, value=30000', 'Row: 2 _id=3, name=build_number, value=123456789012'].join('\n'), [['Content-Type', 'text/plain']]) },
];
