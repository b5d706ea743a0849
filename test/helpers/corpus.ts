// The inspection corpus: realistic messages that carry personal data in each wrapping, and honest
// look-alikes. Used by the unit corpus test and replayed live through the proxy.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Flow } from '../../src/model/flow.js';
import { body, makeFlow } from './flows.js';
import { negatives2, positives2 } from './corpus-round2.js';
import { negatives3, positives3 } from './corpus-round3.js';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'photos');
const photo = fs.readFileSync(path.join(fixtures, 'camera.jpg'));
const heic = fs.readFileSync(path.join(fixtures, 'camera.heic'));
const icon = fs.readFileSync(path.join(fixtures, 'app_icon.png'));

export const smsRows = [
  { _id: 41, thread_id: 3, address: '+33612345678', date: 1413131405000, type: 1, read: 1, body: 'Rendez-vous demain à 18h devant la gare' },
  { _id: 42, thread_id: 3, address: '+33612345678', date: 1413131505000, type: 2, read: 1, body: 'OK, à demain' },
];
const mail = [
  'From: Jane Doe <jane@example.com>',
  'To: Bob <bob@example.org>',
  'Subject: =?UTF-8?B?UmVuZGV6LXZvdXMgZGVtYWlu?=',
  'Date: Sun, 12 Oct 2014 18:30:05 +0200',
  'Message-ID: <1234@example.com>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'See you at the station.',
  '--b1',
  'Content-Type: image/jpeg; name="IMG_20141012_183005.jpg"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="IMG_20141012_183005.jpg"',
  '',
  photo.toString('base64').replace(/.{76}/g, '$&\r\n'),
  '--b1--',
  '',
].join('\r\n');

function multipart(parts: Array<{ name: string; fileName?: string; type?: string; data: Buffer | string }>, boundary = '----WebKitFormBoundaryx8Fq'): { bytes: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${part.fileName ? `; filename="${part.fileName}"` : ''}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { bytes: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

function request(bytes: Buffer | string, headers: Array<[string, string]> = [], url = 'https://api.example.com/sync'): Flow {
  return makeFlow({ requestBody: bytes, requestHeaders: headers, url });
}

function stream(up: string): Flow {
  return makeFlow({ kind: 'raw', scheme: 'tcp', request: undefined, target: { host: 'smtp.example.com', port: 587 }, stream: { up: body(up), down: body('220 smtp.example.com ESMTP\r\n') } });
}

const photoUpload = multipart([{ name: 'meta', data: '{"album":"Camera"}' }, { name: 'file', fileName: 'IMG_20141012_183005.jpg', type: 'image/jpeg', data: photo }]);
const smsForm = new URLSearchParams({ address: '+33612345678', body: 'Rendez-vous demain', date: '1413131405000', type: '1' }).toString();

const positives1: Array<{ name: string; flow: Flow; category: string; summary: RegExp; path?: string[] }> = [
  { name: 'a JPEG in a multipart upload', flow: request(photoUpload.bytes, [['Content-Type', photoUpload.contentType]]), category: 'photo', summary: /JPEG camera photo 1600x1200, from Xiaomi Redmi Note, taken 2014-10-12 18:30, GPS 48\.853 N 2\.350 E/, path: ['body', 'multipart:file', 'image/jpeg'] },
  { name: 'a JPEG as a raw PUT body', flow: request(photo, [['Content-Type', 'application/octet-stream']], 'https://up.example.com/gallery/IMG_0001.jpg'), category: 'photo', summary: /GPS 48\.853 N/, path: ['body', 'image/jpeg'] },
  { name: 'a base64 photo in gzip\'d JSON', flow: request(zlib.gzipSync(JSON.stringify({ items: [{ name: 'IMG_1.jpg', blob: photo.toString('base64') }] })), [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']]), category: 'photo', summary: /GPS 48\.853 N/, path: ['body', 'content-encoding:gzip', 'json', 'json:$.items[0].blob', 'base64', 'image/jpeg'] },
  { name: 'a photo as a data URI in a form', flow: request(`img=${encodeURIComponent(`data:image/jpeg;base64,${photo.toString('base64')}`)}`, [['Content-Type', 'application/x-www-form-urlencoded']]), category: 'photo', summary: /GPS/, path: ['body', 'form', 'form:img', 'data-uri:image/jpeg', 'image/jpeg'] },
  { name: 'Android-escaped, line-wrapped base64 in JSON', flow: request(JSON.stringify({ photo: photo.toString('base64').replace(/.{76}/g, '$&\n') }).replace(/\//g, '\\/'), [['Content-Type', 'application/json']]), category: 'photo', summary: /GPS/ },
  { name: 'a HEIC upload', flow: request(heic, [['Content-Type', 'image/heic']]), category: 'photo', summary: /^HEIC camera photo/ },
  { name: 'a photo in a WebSocket message', flow: makeFlow({ kind: 'websocket', scheme: 'wss', messages: [{ protocol: 'websocket', time: '2026-11-27T18:30:11.000Z', fromClient: true, binary: true, data: photo, totalBytes: photo.length }] }), category: 'photo', summary: /GPS/, path: ['websocket:message[0]', 'image/jpeg'] },
  { name: 'SMS provider rows as JSON', flow: request(JSON.stringify({ device: 'x', messages: smsRows }), [['Content-Type', 'application/json']]), category: 'sms', summary: /^2 SMS with \+33612…, 'Rendez-vous demain à 18h devant la gare'$/ },
  { name: 'renamed SMS rows (num/content/time/box)', flow: request(JSON.stringify([{ num: '+8613800138000', content: '验证码 123456', time: 1413131405, box: 'inbox' }]), [['Content-Type', 'application/json']]), category: 'sms', summary: /^1 SMS/ },
  { name: 'SMS rows inside base64 JSON inside a form', flow: request(`data=${encodeURIComponent(Buffer.from(JSON.stringify(smsRows)).toString('base64'))}`, [['Content-Type', 'application/x-www-form-urlencoded']]), category: 'sms', summary: /^2 SMS/, path: ['body', 'form', 'form:data', 'base64', 'json'] },
  { name: 'an SMS as form fields', flow: request(smsForm, [['Content-Type', 'application/x-www-form-urlencoded']]), category: 'sms', summary: /^1 SMS/ },
  // A lying Content-Type never hides data: the body is read for what it is.
  { name: 'an SMS form sent as application/json', flow: request(smsForm, [['Content-Type', 'application/json']]), category: 'sms', summary: /^1 SMS/, path: ['body', 'form'] },
  { name: 'an SMS form sent as application/octet-stream', flow: request(smsForm, [['Content-Type', 'application/octet-stream']]), category: 'sms', summary: /^1 SMS/, path: ['body', 'form'] },
  { name: 'an SMS Backup & Restore XML file', flow: request(`<?xml version='1.0' encoding='UTF-8'?><smses count="1"><sms protocol="0" address="+33612345678" date="1413131405000" type="1" subject="null" body="Rendez-vous demain &amp; bises" read="1" status="-1" /></smses>`, [['Content-Type', 'text/xml']]), category: 'sms', summary: /^1 SMS.*Rendez-vous demain & bises/ },
  { name: 'SMS in a WebSocket message', flow: makeFlow({ kind: 'websocket', scheme: 'wss', messages: [{ protocol: 'websocket', time: '2026-11-27T18:30:11.000Z', fromClient: true, binary: false, data: Buffer.from(JSON.stringify({ op: 'sync', sms: smsRows[0] })), totalBytes: 10 }] }), category: 'sms', summary: /^1 SMS/ },
  { name: 'SMS PDUs in hex in JSON (as modem and spyware dumps carry them)', flow: request(JSON.stringify({ modem: 'dump', pdus: ['07911326040000F0040B911346610089F60000208062917314800CC8F71D14969741F977FD07'] }), [['Content-Type', 'application/json']]), category: 'sms', summary: /^1 SMS with \+31641…, 'How are you\?'$/, path: ['body', 'json', 'json:$.pdus[0]', 'hex:sms-pdu'] },
  { name: 'an .eml upload with an attached photo', flow: request(mail, [['Content-Type', 'message/rfc822']]), category: 'mail', summary: /^Mail from jane@example\.com to bob@example\.org, 'Rendez-vous demain'$/ },
  { name: 'the photo attached to that mail', flow: request(mail, [['Content-Type', 'message/rfc822']]), category: 'photo', summary: /GPS 48\.853 N/, path: ['body', 'mime:part[1]', 'image/jpeg'] },
  { name: 'Gmail API raw (base64url)', flow: request(JSON.stringify({ raw: Buffer.from(mail).toString('base64url') }), [['Content-Type', 'application/json']], 'https://gmail.googleapis.com/gmail/v1/users/me/messages/send'), category: 'mail', summary: /^Mail from jane@example\.com/, path: ['body', 'json', 'json:$.raw', 'base64url', 'message/rfc822'] },
  { name: 'a JSON mail list', flow: request(JSON.stringify({ mails: [{ from: 'jane@example.com', to: ['bob@example.org'], subject: 'Rendez-vous', snippet: 'See you' }] }), [['Content-Type', 'application/json']]), category: 'mail', summary: /^1 mail from jane@example\.com to bob@example\.org/ },
  { name: 'SMTP DATA in a raw stream', flow: stream(`EHLO phone\r\nMAIL FROM:<jane@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n${mail.split('\r\n').slice(0, 6).join('\r\n')}\r\n\r\nHello\r\n..leading dot\r\n.\r\nQUIT\r\n`), category: 'mail', summary: /^Mail sent over SMTP from jane@example\.com/, path: ['stream:up', 'smtp:data[0]', 'message/rfc822'] },
  { name: 'IMAP APPEND in a raw stream', flow: stream(`a1 LOGIN "jane@example.com" "s3cret"\r\na2 APPEND Sent (\\Seen) {${Buffer.byteLength(mail.split('\r\n').slice(0, 6).join('\r\n') + '\r\n\r\nHi\r\n')}}\r\n${mail.split('\r\n').slice(0, 6).join('\r\n')}\r\n\r\nHi\r\n\r\na3 LOGOUT\r\n`), category: 'mail', summary: /^Mail sent over IMAP from jane@example\.com/ },
  { name: 'SMTP AUTH PLAIN credentials', flow: stream(`EHLO phone\r\nAUTH PLAIN ${Buffer.from('\0jane@example.com\0s3cret').toString('base64')}\r\nQUIT\r\n`), category: 'credential', summary: /^SMTP AUTH PLAIN password for jane@example\.com sent to smtp\.example\.com:587 without TLS$/ },
  { name: 'SMTP AUTH LOGIN credentials', flow: stream(`EHLO phone\r\nAUTH LOGIN\r\n${Buffer.from('jane@example.com').toString('base64')}\r\n${Buffer.from('s3cret').toString('base64')}\r\n`), category: 'credential', summary: /AUTH LOGIN password for jane@example\.com/ },
  { name: 'IMAP LOGIN credentials', flow: stream('a1 LOGIN jane@example.com s3cret\r\n'), category: 'credential', summary: /^IMAP LOGIN password for jane@example\.com/ },
  { name: 'POP3 USER/PASS credentials', flow: stream('USER jane\r\nPASS s3cret\r\nQUIT\r\n'), category: 'credential', summary: /^POP3 USER\/PASS password for jane/ },
  { name: 'ActiveSync Basic auth', flow: request('', [['Authorization', `Basic ${Buffer.from('jane@corp.example:s3cret').toString('base64')}`]], 'https://mail.corp.example/Microsoft-Server-ActiveSync?Cmd=Sync&User=jane&DeviceId=abc&DeviceType=Android'), category: 'credential', summary: /ActiveSync password for jane@corp\.example/ },
];

const analytics = JSON.stringify({ events: [{ from: 'home_screen', to: 'settings', message: 'tap', timestamp: 1732700000000, type: 1 }] });
const configJson = JSON.stringify({ server: { address: '192.168.1.1', body: 'default', time: 1700000000, type: 2 }, mail: { from: 'noreply@example.com', template: 'welcome' } });
const orderJson = JSON.stringify({ order: { number: '100234567890123', message: 'Order shipped', date: '2026-11-20T10:00:00Z', status: 'shipped' } });
const sipLog = ['INVITE sip:bob@example.org SIP/2.0', 'Via: SIP/2.0/UDP 10.0.0.1', 'From: <sip:jane@example.com>', 'To: <sip:bob@example.org>', 'Call-ID: a84b4c76e66710', 'CSeq: 314159 INVITE', 'Subject: call', 'Date: Sun, 12 Oct 2014 18:30:05 GMT', '', ''].join('\r\n');
const sipNoStartLine = sipLog.split('\r\n').slice(1).join('\r\n');
const httpHeaders = 'HTTP/1.1 200 OK\r\nFrom: bot@example.com\r\nTo: x@example.com\r\nDate: Sun, 12 Oct 2014 18:30:05 GMT\r\nSubject: x\r\n\r\n';
const iconUpload = multipart([{ name: 'icon', fileName: 'app_icon.png', type: 'image/png', data: icon }]);
const random = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 2654435761) % 256));

const negatives1: Array<{ name: string; flow: Flow }> = [
  { name: 'analytics events with from/to/message/timestamp', flow: request(analytics, [['Content-Type', 'application/json']]) },
  { name: 'a config file with address/body keys', flow: request(configJson, [['Content-Type', 'application/json']]) },
  { name: 'a 15-digit order number with a message and a date', flow: request(orderJson, [['Content-Type', 'application/json']]) },
  { name: 'a SIP INVITE', flow: request(sipLog) },
  { name: 'SIP headers without a start line', flow: request(sipNoStartLine) },
  { name: 'an HTTP response header block', flow: request(httpHeaders) },
  { name: 'an app icon upload', flow: request(iconUpload.bytes, [['Content-Type', iconUpload.contentType]]) },
  { name: 'hashes and tokens in JSON', flow: request(JSON.stringify({ sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', md5: 'd41d8cd98f00b204e9800998ecf8427e', token: 'eyJhbGciOiJIUzI1NiJ9', id: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345' }), [['Content-Type', 'application/json']]) },
  { name: 'random encrypted-looking bytes', flow: request(random, [['Content-Type', 'application/octet-stream']]) },
  { name: 'base64 of random bytes in JSON', flow: request(JSON.stringify({ payload: random.toString('base64') }), [['Content-Type', 'application/json']]) },
  { name: 'an SMTP session with STARTTLS and no credentials in the clear', flow: stream('EHLO phone\r\nSTARTTLS\r\n\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03') },
  { name: 'a form with an address field that is a street', flow: request('address=12+rue+de+Rivoli&body=hello&date=1413131405000', [['Content-Type', 'application/x-www-form-urlencoded']]) },
];


export const positives = [...positives1, ...positives2, ...positives3];
export const negatives = [...negatives1, ...negatives2, ...negatives3];
