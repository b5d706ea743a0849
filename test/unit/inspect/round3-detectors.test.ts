// The third round's rules as tables, at their boundaries: IMEIs whose check digit does not match
// (medium, said so) and fillers (placeholders); visits read from records whose keys say nothing;
// SMS by their values with dates in seconds, and keyless rows.

import t from 'tap';
import { classifyIdentifier, isFillerImei, CHECK_DIGIT_NOTE } from '../../../src/inspect/detect/identifier.js';
import { isPageUrl, isTitle, visitByValues } from '../../../src/inspect/detect/browsing-by-values.js';
import { smsRecordByPosition, smsRecordByValues } from '../../../src/inspect/detect/sms.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { body, makeFlow } from '../../helpers/flows.js';
import { pbField, pbMessage } from '../../helpers/corpus-round3.js';

const json = (value: unknown) => makeFlow({ requestBody: JSON.stringify(value), requestHeaders: [['Content-Type', 'application/json']] });
const SECONDS = 1413131405;

t.test('IMEI under an IMEI key: valid, failing its check digit, filler, or not an IMEI', async (t) => {
  const cases: Array<[string, string, string, string | undefined | null]> = [
    // [name, key, value, note] — null: not an identifier at all
    ['a valid IMEI', 'imei', '353456789012348', undefined],
    ['a failing check digit', 'imei', '353456789012345', CHECK_DIGIT_NOTE],
    ['under deviceImei', 'deviceImei', '864321012345678', CHECK_DIGIT_NOTE],
    ['under IMEI1', 'IMEI1', '864321012345678', CHECK_DIGIT_NOTE],
    ['under imei_2', 'imei_2', '864321012345678', CHECK_DIGIT_NOTE],
    ['in an X-Device-IMEI header', 'X-Device-IMEI', '864321012345678', CHECK_DIGIT_NOTE],
    ['failing, under the generic device_id', 'device_id', '353456789012345', null],
    ['failing, under did', 'did', '353456789012345', null],
    ['valid, under device_id (as before)', 'device_id', '353456789012348', undefined],
    ['ascending filler', 'imei', '123456789012345', 'emulator or placeholder value'],
    ['ascending filler with a valid check digit', 'imei', '123456789012347', 'emulator or placeholder value'],
    ['ascending filler from 0', 'imei', '012345678901234', 'emulator or placeholder value'],
    ['descending filler', 'imei', '987654321098765', 'emulator or placeholder value'],
    ['repeated digit', 'imei', '111111111111111', 'emulator or placeholder value'],
    ['the emulator IMEI', 'imei', '000000000000000', 'emulator or placeholder value'],
    ['eight leading zeros', 'imei', '000000001234567', null],
    ['14 digits', 'imei', '35345678901234', null],
    ['16 digits', 'imei', '3534567890123456', null],
    ['a millisecond timestamp', 'imei', '1413131405000', null],
    ['15 digits under order_number', 'order_number', '353456789012345', null],
  ];
  for (const [name, key, value, note] of cases) {
    const hit = classifyIdentifier(key, value);
    if (note === null) t.equal(hit, undefined, name);
    else t.equal(hit?.kind === 'IMEI' ? hit.note : 'not an IMEI', note, name);
  }
  t.ok(isFillerImei('555555555555550') && !isFillerImei('353456789012348'), 'fillers by their first 14 digits');
  t.equal(classifyIdentifier('phone', '008613800138000')?.kind, 'phone number', '15 digits under a phone key are a phone number, not an IMEI');
  t.equal(classifyIdentifier('imei', 1413131405000), undefined, 'a millisecond timestamp as a JSON number');
});

t.test('an IMEI failing Luhn is medium, with the note in summary and details; a valid one stays high', async (t) => {
  const finding = (value: unknown) => inspectFlow(json(value), defaultDetectors).drafts.filter((d) => d.detector === 'identifier/imei');
  const [failing] = finding({ imei: '353456789012345' });
  t.equal(failing?.severity, 'medium');
  t.match(failing?.summary, /: check digit does not match$/);
  t.equal((failing?.details as { note?: string }).note, CHECK_DIGIT_NOTE);
  t.equal(finding({ imei: '353456789012348' })[0]?.severity, 'high');
  const [both] = finding({ imei1: '864321012345678', imei2: '353456789012348' });
  t.equal(both?.severity, 'high', 'a valid IMEI beside a failing one leads');
  t.match(both?.summary, /^IMEI 35345678… under "imei2" \(and 1 more\)$/);
  t.equal(finding({ imei: '123456789012345' })[0]?.severity, 'info', 'a filler is said, at info');
});

t.test('page URLs and titles, for records whose keys say nothing', async (t) => {
  const urls: Array<[string, boolean]> = [
    ['https://www.doctissimo.fr/sante/x', true], ['https://fr.wikipedia.org/wiki/A', true], ['https://www.lemonde.fr/', true],
    ['https://api.example.com/feed', false], ['https://www.example.com/api/feed', false], ['https://www.example.com/v2/items', false],
    ['https://t.appsflyer.com/x', false], ['https://images.unsplash.com/photo-1', false], ['https://d1a2b3.cloudfront.net/x', false],
    ['https://play.google.com/store/apps/details?id=com.whatsapp', false], ['https://apps.apple.com/app/id324684580', false],
    ['https://shop.example/item?id=com.whatsapp', false], ['not a url', false],
  ];
  for (const [url, page] of urls) t.equal(isPageUrl(url), page, url);
  const titles: Array<[string, boolean]> = [
    ['Dépression : les symptômes', true], ['明天天气', true], ['Gare de Lyon — Wikipédia', true],
    ['home', false], ['GET /v1/feed', false], ['state=idle ok', false], ['com.example.app org.example', false], ['ab', false],
  ];
  for (const [title, is] of titles) t.equal(isTitle(title), is, title);
});

t.test('a visit by values: a page and a title or a time', async (t) => {
  const url = 'https://www.doctissimo.fr/sante/depression';
  const cases: Array<[string, Record<string, unknown> | unknown[], boolean]> = [
    ['{u, t, d}', { u: url, t: 'Dépression : les symptômes', d: SECONDS }, true],
    ['[url, title, time]', [url, 'Dépression : les symptômes', SECONDS], true],
    ['a time in ms only', { a: url, b: SECONDS * 1000 }, true],
    ['an ISO time only', [url, '2014-10-12T18:30:05Z'], true],
    ['a title only', { x: url, y: 'Dépression : les symptômes' }, true],
    ['an id only', { u: url, i: 4521 }, false],
    ['a one-word label only', { u: url, n: 'health' }, false],
    ['sizes only', { s: url, w: 640, h: 480 }, false],
    ['an API endpoint with a time', { e: 'https://api.example.com/v1/x', t: SECONDS }, false],
    ['no URL', { t: 'Dépression : les symptômes', d: SECONDS }, false],
  ];
  for (const [name, record, visit] of cases) t.equal(visitByValues(record) !== undefined, visit, name);
});

t.test('visits by values count in lists of two or more, on two sites or more, sent by the device', async (t) => {
  const visits = [['https://www.doctissimo.fr/a', 'Page one title', SECONDS], ['https://www.leboncoin.fr/b', 'Page two title', SECONDS + 60]];
  const browsing = (flow: ReturnType<typeof json>) => inspectFlow(flow, defaultDetectors).drafts.filter((d) => d.category === 'browsing');
  t.equal(browsing(json({ h: visits })).length, 1, 'two sites in a request');
  t.equal(browsing(json({ h: visits.slice(0, 1) })).length, 0, 'one record is not a history');
  t.equal(browsing(json({ h: [visits[0], ['https://www.doctissimo.fr/c', 'Another page here', SECONDS]] })).length, 0, 'one site is not a history');
  const own = makeFlow({ url: 'https://www.doctissimo.fr/sync', target: { host: 'www.doctissimo.fr', port: 443 }, requestBody: JSON.stringify({ h: [visits[0], ['https://www.doctissimo.fr/c', 'Another page', SECONDS], visits[1]] }), requestHeaders: [['Content-Type', 'application/json']] });
  t.equal(browsing(own).length, 0, 'the site the flow goes to is the app\'s own: one other site left');
  const response = makeFlow({ url: 'https://api.example.com/feed', method: 'GET', response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [['Content-Type', 'application/json']], body: body(JSON.stringify({ h: visits })) } });
  t.equal(browsing(response).length, 0, 'a feed the server sends back');
});

t.test('SMS by values with dates in seconds', async (t) => {
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['number, text, seconds', { 1: '+33612345678', 2: 'Rendez-vous demain à 18h', 3: SECONDS }, true],
    ['number, text, Timestamp message', { 1: '+33612345678', 2: 'Rendez-vous demain', 3: { 1: SECONDS, 2: 5000 } }, true],
    ['number, text, milliseconds (as before)', { 1: '+33612345678', 2: 'Rendez-vous demain', 3: SECONDS * 1000 }, true],
    ['seconds before 2009', { 1: '+33612345678', 2: 'Rendez-vous demain', 3: 1200000000 }, false],
    ['seconds after 2035', { 1: '+33612345678', 2: 'Rendez-vous demain', 3: 2100000000 }, false],
    ['a Timestamp with other fields is not one', { 1: '+33612345678', 2: 'Rendez-vous demain', 3: { 1: SECONDS, 3: 'x' } }, false],
    ['a contact: number, name, seconds', { 1: 'Jean Dupont', 2: '+33612345678', 3: SECONDS }, false],
    ['a log line with a number', { 1: '+33612345678', 2: 'onCallStateChanged state=IDLE', 3: SECONDS }, false],
    ['a log level', { 1: '+33612345678', 2: 'INFO sms gateway connected', 3: SECONDS }, false],
    ['one word with seconds', { 1: '+33612345678', 2: 'verified', 3: SECONDS }, false],
    ['no number', { 1: 'user:4521', 2: 'See you tomorrow at six', 3: SECONDS }, false],
  ];
  for (const [name, object, sms] of cases) t.equal(smsRecordByValues(object) !== undefined, sms, name);
});

t.test('SMS as keyless rows: number, text, date and box type, all four', async (t) => {
  const row = ['+33612345678', 'Rendez-vous demain à 18h', SECONDS, 1];
  const cases: Array<[string, unknown[], boolean]> = [
    ['[address, body, seconds, type]', row, true],
    ['milliseconds', ['+33612345678', 'Rendez-vous demain à 18h', SECONDS * 1000, 2], true],
    ['columns in another order', [1, SECONDS, '+33612345678', 'Rendez-vous demain à 18h'], true],
    ['no type', ['+33612345678', 'Rendez-vous demain à 18h', SECONDS, 'x'], false],
    ['a contact row (name, number, time, phone type)', ['Jean Dupont', '+33612345678', SECONDS, 2], false],
    ['a log tuple', ['+33612345678', 'WARN modem reset requested', SECONDS, 4], false],
    ['a national number', ['0612345678', 'Rendez-vous demain à 18h', SECONDS, 1], false],
    ['a nested object is not a row', [...row, { x: 1 }], false],
    ['too short', ['+33612345678', 'Rendez-vous demain'], false],
  ];
  for (const [name, items, sms] of cases) t.equal(smsRecordByPosition(items) !== undefined, sms, name);
});

t.test('contact lists with numbers but no text bodies are not SMS (the numbers are still identifiers)', async (t) => {
  const sms = (flow: ReturnType<typeof json>) => inspectFlow(flow, defaultDetectors).drafts.filter((d) => d.category === 'sms');
  const contacts = pbMessage(pbField(1, pbMessage(pbField(1, 'Jean Dupont'), pbField(2, '+33612345678'), pbField(3, SECONDS))), pbField(1, pbMessage(pbField(1, 'Marie Curie'), pbField(2, '+33698765432'), pbField(3, SECONDS + 60))));
  t.same(sms(makeFlow({ requestBody: contacts, requestHeaders: [['Content-Type', 'application/x-protobuf']] })), []);
  t.same(sms(json({ rows: [['Jean Dupont', '+33612345678', SECONDS, 2], ['Marie Curie', '+33698765432', SECONDS, 1]] })), []);
  const telephonyLog = pbMessage(pbField(1, pbMessage(pbField(1, 'I/Telephony'), pbField(2, '+33612345678'), pbField(3, 'onCallStateChanged state=IDLE'), pbField(4, SECONDS))));
  t.same(sms(makeFlow({ requestBody: telephonyLog, requestHeaders: [['Content-Type', 'application/x-protobuf']] })), []);
});
