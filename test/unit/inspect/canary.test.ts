import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { loadCanaries } from '../../../src/inspect/canary/canary-file.js';
import { createCanaryDetector } from '../../../src/inspect/canary/canary-detector.js';
import { phoneForms } from '../../../src/inspect/canary/canary-variants.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { makeFlow } from '../../helpers/flows.js';
import { tempDir } from '../../helpers/lab.js';

const file = path.join(import.meta.dirname, '..', '..', 'fixtures', 'canaries', 'lab.yaml');
const canaries = loadCanaries(file);
const detectors = [...defaultDetectors, createCanaryDetector(canaries)];
const photo = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'camera.jpg'));

function found(body: Buffer | string, headers: Array<[string, string]> = [['Content-Type', 'application/json']], direction: 'request' | 'response' = 'request') {
  const flow = direction === 'request' ? makeFlow({ requestBody: body, requestHeaders: headers }) : makeFlow({ response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers, body: { bytes: Buffer.from(body), totalBytes: Buffer.byteLength(body), truncated: false } } });
  return inspectFlow(flow, detectors).drafts.filter((d) => d.canary);
}

/** An SMS-SUBMIT in GSM 7-bit (ASCII letters map to themselves in the default alphabet). */
function gsm7Submit(number: string, text: string): string {
  const digits = number.replace(/^\+/, '');
  const bcd = (digits.length % 2 ? `${digits}F` : digits).match(/../g)!.map((p) => p[1]! + p[0]!).join('');
  const packed: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of text) {
    acc |= (ch.charCodeAt(0) & 0x7f) << bits;
    bits += 7;
    while (bits >= 8) { packed.push(acc & 0xff); acc >>= 8; bits -= 8; }
  }
  if (bits > 0) packed.push(acc & 0xff);
  return `0011000${digits.length.toString(16).toUpperCase()}91${bcd}0000AA${text.length.toString(16).padStart(2, '0')}${Buffer.from(packed).toString('hex')}`.toUpperCase();
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
/** name, body, canary label, its transform exactly, headers, and the whole decode path where it matters. */
const rows: Array<[string, Buffer | string, string, RegExp, Array<[string, string]>?, string[]?]> = [
  ['the phone number as planted', JSON.stringify({ msisdn: '+33612345678' }), 'lab-phone', /^as planted$/],
  ['the phone in national grouped form', 'tel=06 12 34 56 78', 'lab-phone', /national grouped/, [['Content-Type', 'text/plain']]],
  // The form decoder undoes the URL encoding, so the value is found as planted, under its field.
  ['the phone URL-encoded in a form', 'p=%2B33612345678', 'lab-phone', /^as planted$/, [['Content-Type', 'application/x-www-form-urlencoded']]],
  ['the phone hashed with SHA-256 (contact discovery)', JSON.stringify({ h: [sha256('+33612345678')] }), 'lab-phone', /^sha256\(as planted\) hex$/],
  ['the IMEI as a truncated SHA-1', JSON.stringify({ did: crypto.createHash('sha1').update('353456789012348').digest('hex').slice(0, 16) }), 'lab-imei', /sha1\(as planted\) hex, first 8 bytes/],
  ['the IMEI base64\'d then gzipped then base64\'d again', JSON.stringify({ blob: zlib.gzipSync(JSON.stringify({ i: Buffer.from('353456789012348').toString('base64') })).toString('base64') }), 'lab-imei', /^as planted$/, undefined, ['body', 'json', 'json:$.blob', 'base64', 'gzip', 'json', 'json:$.i', 'base64', 'canary:as planted']],
  // Inside free text nothing decodes the base64 as a whole: only the precomputed variants find it.
  ['the IMEI base64\'d inside a log line', `boot: device ${Buffer.from('353456789012348').toString('base64').replace(/=+$/, '')} registered`, 'lab-imei', /^as planted, base64$/, [['Content-Type', 'text/plain']]],
  ['the phone\'s SHA-256 in base64 inside a log line', `match ${crypto.createHash('sha256').update('+33612345678').digest('base64').replace(/=+$/, '')} found`, 'lab-phone', /^sha256\(as planted\) base64$/, [['Content-Type', 'text/plain']]],
  ['the SMS text in upper case', JSON.stringify({ t: 'LE CODE DU PORTAIL EST 4721B' }), 'planted-sms', /as planted/],
  ['the SMS text as UCS-2 hex (a PDU)', JSON.stringify({ pdu: Buffer.from('Le code du portail est 4721B', 'utf16le').swap16().toString('hex').toUpperCase() }), 'planted-sms', /UCS-2/],
  ['the SMS text inside a GSM 7-bit PDU', JSON.stringify({ pdu: gsm7Submit('+33698765432', 'Le code du portail est 4721B') }), 'planted-sms', /^as planted$/],
  ['the e-mail address, MD5-hashed', JSON.stringify({ em: crypto.createHash('md5').update('jane.lab@example.com').digest('hex') }), 'lab-mail', /^md5\(as planted\) hex$/],
  ['the photo itself', photo, 'beach-photo', /the same file/, [['Content-Type', 'image/jpeg']]],
];

for (const [name, body, label, transform, headers, fullPath] of rows) {
  t.test(`finds ${name}`, async (t) => {
    const hits = found(body, headers);
    const hit = hits.find((d) => d.canary === label);
    t.ok(hit, JSON.stringify(hits.map((d) => [d.canary, d.details])));
    if (hit) {
      t.match(String(hit.details['transform']), transform);
      t.equal(hit.severity, 'high');
      t.match(hit.evidence.path[hit.evidence.path.length - 1], /^canary:/);
      if (fullPath) t.same(hit.evidence.path, fullPath, 'every layer of the wrapping is undone and named');
    }
  });
}

t.test('a re-encoded photo is matched by its EXIF fingerprint', async (t) => {
  // Change the pixels (as an app's re-encoding would) but keep the EXIF segment.
  const reencoded = Buffer.from(photo);
  for (let i = reencoded.length - 2000; i < reencoded.length - 10; i += 7) reencoded[i] = reencoded[i]! ^ 0x01;
  const hit = found(reencoded, [['Content-Type', 'image/jpeg']]).find((d) => d.canary === 'beach-photo');
  t.match(hit?.details['transform'], /re-encoded/);
});

t.test('look-alikes of the planted values stay quiet', async (t) => {
  t.same(found(JSON.stringify({ msisdn: '+33612345679', imei: '353456789012349', text: 'Le code du portail est 4722B' })), []);
});

t.test('phone forms cover E.164, 00, national and grouped', async (t) => {
  const forms = phoneForms('+33612345678').map(([, f]) => f);
  for (const f of ['+33612345678', '0033612345678', '0612345678', '06 12 34 56 78', '06.12.34.56.78']) t.ok(forms.includes(f), f);
});

t.test('a bad canaries file is a one-line error with file:line', async (t) => {
  const dir = tempDir();
  const write = (text: string) => { const f = path.join(dir, 'c.yaml'); fs.writeFileSync(f, text); return f; };
  t.throws(() => loadCanaries(write('canaries:\n  - { label: a, type: phone, value: "+33612345678" }\n  - { label: b, type: pager, value: "123456" }\n')), /c\.yaml:3: type must be one of/);
  t.throws(() => loadCanaries(write('canaries:\n  - { label: a, type: phone, value: "12" }\n')), /c\.yaml:2: value must be a string of at least 4/);
  t.throws(() => loadCanaries(write('canaries: [ {label: a\n')), /c\.yaml:\d+:/);
  t.throws(() => loadCanaries(write('canaries:\n  - { label: a, type: phone, value: "+33612345678" }\n  - { label: a, type: imei, value: "353456789012348" }\n')), /label a is used twice/);
  t.throws(() => loadCanaries(path.join(dir, 'missing.yaml')), /--canaries/);
  t.equal(loadCanaries(write('{"canaries": [{"label": "j", "type": "email", "value": "a@b.example"}]}')).length, 1, 'JSON works too');
});
