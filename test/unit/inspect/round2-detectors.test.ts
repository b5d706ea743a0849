// The second round's record shapes as tables: positives and the look-alikes that must stay quiet.

import t from 'tap';
import { isInventory, isPackageName } from '../../../src/inspect/detect/app-list.js';
import { siteOf } from '../../../src/inspect/detect/browsing.js';
import { positionOfFieldPair } from '../../../src/inspect/detect/location.js';
import { mailRecordOf } from '../../../src/inspect/detect/mail.js';
import { smsRecordByShortKeys, smsRecordOf } from '../../../src/inspect/detect/sms.js';
import { parseCookieHeader } from '../../../src/inspect/views.js';

t.test('SMS with abbreviated keys: all four of number, text, time and box type', async (t) => {
  const row = { a: '+33612345678', b: 'Rendez-vous demain à 18h', d: 1413131405000, t: 1 };
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['a provider row with short keys', row, true],
    ['CJK text without spaces', { ...row, b: '明天见面吧' }, true],
    ['a template placeholder %s', { ...row, b: 'Your code is %s' }, false],
    ['a template placeholder {{…}}', { ...row, b: 'Hello {{name}}, welcome' }, false],
    ['one word', { ...row, b: 'OK' }, false],
    ['no box type', { a: '+33612345678', b: 'Rendez-vous demain', d: 1413131405000, x: 'y' }, false],
    ['a national number', { ...row, a: '0612345678' }, false],
    ['a bot name instead of a number', { ...row, a: 'bot' }, false],
    ['a URL as the text', { ...row, b: 'https://example.com/some page' }, false],
    ['long keys are for smsRecordOf', { addr: '+33612345678', b: 'x y', d: 1413131405000, t: 1 }, false],
  ];
  for (const [name, object, sms] of cases) t.equal(smsRecordByShortKeys(object) !== undefined, sms, name);
});

t.test('one SMS in an event: by keys, or by an event that names SMS', async (t) => {
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['sender/content/ts', { event: 'sms_received', sender: '+33612345678', content: 'See you', ts: 1413131405000 }, true],
    ['sms_from/sms_body/sms_time', { sms_from: '+33612345678', sms_body: 'See you', sms_time: '1413131405' }, true],
    ['type "sms" with from and text', { type: 'sms', from: '+33612345678', text: 'See you' }, true],
    ['type "chat" with from and text', { type: 'chat', from: '+33612345678', text: 'See you' }, false],
    ['an event naming SMS without a number', { event: 'sms_permission_granted', from: 'onboarding', text: 'ok' }, false],
    ['"smsc" is not "sms"', { type: 'smsc_config', from: '+33612345678', text: 'See you' }, false],
  ];
  for (const [name, object, sms] of cases) t.equal(smsRecordOf(object) !== undefined, sms, name);
});

t.test('mail API shapes, and objects that only look like mail', async (t) => {
  const cases: Array<[string, Record<string, unknown>, string | undefined]> = [
    ['JMAP', { from: [{ email: 'jane@example.com' }], to: [{ email: 'bob@example.org' }], subject: 'Hi', bodyValues: { 1: { value: 'text' } } }, 'jmap'],
    ['Graph (no sender: the signed-in account)', { subject: 'Hi', body: { content: 'text' }, toRecipients: [{ emailAddress: { address: 'bob@example.org' } }] }, 'graph'],
    ['Gmail API headers', { headers: [{ name: 'From', value: 'Jane <jane@example.com>' }, { name: 'To', value: 'bob@example.org' }, { name: 'Subject', value: 'Hi' }], body: { data: Buffer.from('hello there').toString('base64url') } }, 'gmail-api'],
    ['plain JSON', { from: 'jane@example.com', to: 'bob@example.org', subject: 'Hi', body: 'text' }, 'json'],
    ['to a team name', { to: 'support', subject: 'Crash', body: 'It crashes' }, undefined],
    ['no subject', { from: 'jane@example.com', to: 'bob@example.org', body: 'text' }, undefined],
    ['a recipient without a body', { to: 'bob@example.org', subject: 'Hi' }, undefined],
  ];
  for (const [name, object, via] of cases) t.equal(mailRecordOf(object)?.via, via, name);
  t.equal(mailRecordOf({ headers: [{ name: 'From', value: 'jane@example.com' }, { name: 'Subject', value: 'Hi' }], body: { data: Buffer.from('hello there').toString('base64url') } })?.body, 'hello there', 'the Gmail body part is decoded');
});

t.test('package names, not classes or hosts; inventories, not module lists', async (t) => {
  const names: Array<[string, boolean]> = [
    ['com.whatsapp', true], ['fr.doctolib.www', true], ['org.telegram.messenger', true],
    ['com.myapp.ui.MainActivity', false], ['api.example.com', false], ['example', false], ['com..x', false],
  ];
  for (const [name, is] of names) t.equal(isPackageName(name), is, name);
  t.equal(isPackageName('api.example.com', true), true, 'under a package key the first label is not checked');
  const apps = ['com.whatsapp', 'com.grindrapp.android', 'fr.doctolib.www', 'com.google.android.apps.maps', 'com.facebook.katana', 'com.instagram.android', 'org.telegram.messenger', 'com.spotify.music', 'com.ubercab', 'com.tinder'];
  t.equal(isInventory(apps), true, 'ten apps from many vendors');
  t.equal(isInventory(apps.slice(0, 9)), false, 'nine is not enough');
  t.equal(isInventory(Array.from({ length: 12 }, (_, i) => `com.myapp.module${i}`)), false, 'one vendor: its own modules');
  t.equal(isInventory([...Array.from({ length: 8 }, (_, i) => `com.myapp.m${i}`), 'com.a.x', 'com.b.x', 'com.c.x', 'com.d.x']), false, 'mostly one vendor');
});

t.test('the site of a page, not of an asset', async (t) => {
  const cases: Array<[string, string | undefined]> = [
    ['https://www.doctissimo.fr/sante/x', 'doctissimo.fr'], ['https://m.bbc.co.uk/news', 'bbc.co.uk'], ['http://fr.wikipedia.org/wiki/A', 'wikipedia.org'],
    ['https://cdn.example.com/app.js', undefined], ['https://img.example.com/a.png?x=1', undefined], ['ftp://example.com/', undefined], ['not a url', undefined], ['https://127.0.0.1/', undefined],
  ];
  for (const [url, site] of cases) t.equal(siteOf(url), site, url);
});

t.test('protobuf field pairs: consecutive doubles in range with four decimals', async (t) => {
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['lat then lon', { 1: 'gps', 2: 48.8530123, 3: 2.3499021 }, true],
    ['southern and western', { 5: -33.8688197, 6: -70.6692655 }, true],
    ['a longitude out of range', { 5: -33.8688197, 6: -190.2092955 }, false],
    ['southern and eastern', { 5: -33.8688197, 6: 151.2092955 }, true],
    ['not consecutive', { 2: 48.8530123, 4: 2.3499021 }, false],
    ['integers (varints, ids)', { 2: 48, 3: 2 }, false],
    ['too few decimals', { 2: 48.85, 3: 2.35 }, false],
    ['a latitude out of range', { 2: 123.4567891, 3: 2.3499021 }, false],
  ];
  for (const [name, object, found] of cases) t.equal(positionOfFieldPair(object) !== undefined, found, name);
});

t.test('cookies as fields', async (t) => {
  t.same(parseCookieHeader('sid=abc; gaid=38400000-8cf0-11bd-b23e-10b96e40000d; q="quoted"; enc=a%20b; bad; =x'), { sid: 'abc', gaid: '38400000-8cf0-11bd-b23e-10b96e40000d', q: 'quoted', enc: 'a b' });
});
