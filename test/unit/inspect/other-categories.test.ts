// Contacts, call logs, identifiers and location: positives in their usual shapes, and the
// look-alikes that must stay quiet (order numbers, hashes, EAN codes, placeholders, analytics).

import t from 'tap';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { classifyIdentifier, luhnValid } from '../../../src/inspect/detect/identifier.js';
import { parseVcards } from '../../../src/inspect/detect/contact.js';
import { makeFlow } from '../../helpers/flows.js';

const json = (value: unknown) => makeFlow({ requestBody: JSON.stringify(value), requestHeaders: [['Content-Type', 'application/json']] });
const text = (body: string, type = 'text/plain') => makeFlow({ requestBody: body, requestHeaders: [['Content-Type', type]] });

const vcard21 = 'BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Dupont;Jean-Fran=C3=A7ois;;;\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Jean-Fran=C3=A7ois =\r\nDupont\r\nTEL;CELL:+33 6 12 34 56 78\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Marie\r\n Curie\r\nTEL;TYPE=HOME:01 23 45 67 89\r\nEMAIL:marie@example.fr\r\nEND:VCARD\r\n';

const positives: Array<[string, ReturnType<typeof json>, string, RegExp, string?]> = [
  ['a vCard 2.1 export with quoted-printable and folded lines', text(vcard21, 'text/x-vcard'), 'contact', /^2 contacts \(vCard\) with 2 phone numbers, e\.g\. 'Jean-François Dupont'$/],
  ['a JSON address book', json({ contacts: [{ displayName: 'Jean Dupont', phoneNumbers: [{ number: '+33612345678' }] }, { displayName: 'Marie Curie', emails: ['marie@example.fr'] }] }), 'contact', /^2 contacts \(address book\)/],
  ['Android contact rows', json([{ display_name: 'Jean', data1: '+33612345678', mimetype: 'vnd.android.cursor.item/phone_v2' }, { display_name: 'Marie', data1: '0123456789', mimetype: 'vnd.android.cursor.item/phone_v2' }]), 'contact', /^2 contacts/],
  ['hashed phone numbers for contact discovery', json({ contacts: Array.from({ length: 8 }, (_, i) => `${'ab'.repeat(31)}${String(i).padStart(2, '0')}`) }), 'contact', /^8 hashed phone numbers/],
  ['CallLog rows', json({ calls: [{ number: '+33612345678', date: 1413131405000, duration: 125, type: 2 }, { number: '+33698765432', date: 1413131505000, duration: 0, type: 3 }] }), 'call-log', /^2 calls with 2 numbers, 125 s in all$/],
  ['renamed call rows', json([{ phone: '0612345678', timestamp: 1413131405, dur: '42', call_type: 'outgoing' }]), 'call-log', /^1 call with 0612…, 42 s in all$/],
  ['an IMEI under imei', json({ device: { imei: '353456789012348', model: 'Redmi Note' } }), 'identifier', /^IMEI 35345678… under "imei"$/, 'high'],
  ['an IMEI whose check digit does not match (a MediaTek or repaired phone)', json({ imei: '353456789012345' }), 'identifier', /^IMEI 35345678… under "imei": check digit does not match$/, 'medium'],
  ['an IMSI and an ICCID', json({ imsi: '208150123456789', iccid: '89330123456789012344' }), 'identifier', /^(IMSI|ICCID) /, 'high'],
  ['a MAC address', json({ wifi_mac: 'a4:5e:60:c1:22:33' }), 'identifier', /^MAC a4:5e:60:… under "wifi_mac"$/, 'medium'],
  ['an advertising ID', json({ gaid: '38400000-8cf0-11bd-b23e-10b96e40000d' }), 'identifier', /^advertising ID 38400000-8cf0-11bd… under "gaid"$/, 'medium'],
  ['a zeroed advertising ID (reported as such)', json({ idfa: '00000000-0000-0000-0000-000000000000' }), 'identifier', /present but zeroed/, 'info'],
  ['a phone number under msisdn', json({ msisdn: '+33612345678' }), 'identifier', /^phone number \+33612… under "msisdn"$/, 'high'],
  ['an E.164 number under any key', json({ contact_info: { x1: '+8613800138000' } }), 'identifier', /^phone number \+861380… under "x1": E\.164 number under another key$/, 'medium'],
  ['latitude and longitude', json({ location: { lat: 48.853012, lng: 2.349902, accuracy: 12 } }), 'location', /^Position 48\.8530, 2\.3499 \(±1 m, lat\/lon keys\)$/, 'high'],
  ['a GeoJSON point ([lon, lat])', json({ geometry: { type: 'Point', coordinates: [2.3499, 48.853] } }), 'location', /^Position 48\.8530, 2\.3499/],
  ['latitudeE7 (Google location history)', json({ locations: [{ latitudeE7: 488530120, longitudeE7: 23499020, timestampMs: '1413131405000' }] }), 'location', /^Position 48\.8530, 2\.3499/],
  ['an NMEA sentence', text('$GPGGA,183005,4851.180,N,00220.994,E,1,08,0.9,35.0,M,47.0,M,,*7C\r\n'), 'location', /^Position 48\.8530, 2\.3499 \(±11 m, NMEA sentence\)$/],
  ['a Wi-Fi scan', json({ wifi: [{ bssid: 'a4:5e:60:c1:22:33', rssi: -50 }, { bssid: 'f0:9f:c2:11:22:33', rssi: -70, ssid: 'Livebox-1234' }] }), 'location', /^2 Wi-Fi access points \(BSSID\)/, 'medium'],
  ['cell towers', json({ cells: [{ mcc: 208, mnc: 1, lac: 1234, cid: 56789 }] }), 'location', /^1 cell tower/, 'medium'],
];

for (const [name, flow, category, summary, severity] of positives) {
  t.test(`finds ${name}`, async (t) => {
    const { drafts } = inspectFlow(flow, defaultDetectors);
    const hit = drafts.find((d) => d.category === category && summary.test(d.summary));
    t.ok(hit, JSON.stringify(drafts.map((d) => [d.category, d.severity, d.summary])));
    if (hit && severity) t.equal(hit.severity, severity);
  });
}

const negatives: Array<[string, ReturnType<typeof json>, string?]> = [
  ['a 15-digit order number', json({ order_id: '353456789012348', total: 19.99 })],
  ['a 15-digit number that fails Luhn under a generic device key', json({ device_id: '353456789012345' })],
  ['an EAN-13 barcode', json({ ean: '4006381333931', product: 'pen' })],
  ['the emulator IMEI', json({ imei: '000000000000000' })],
  ['the placeholder MAC', json({ mac: '02:00:00:00:00:00' })],
  ['a request id that is a UUID', json({ request_id: '38400000-8cf0-11bd-b23e-10b96e40000d' })],
  ['a SHA-256 under a device key', json({ device_id: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })],
  ['integer lat/lon (a grid cell, not a position)', json({ lat: 48, lon: 2 })],
  ['lat/lon at 0,0', json({ lat: 0.0, lng: 0.0 })],
  ['numbers under non-geo keys', json({ price: 48.853, tax: 2.3499 })],
  // The user's own number is an identifier finding; it is just not an address book.
  ['a single profile with a phone (not an address book)', json({ user: { name: 'Jean', phone: '+33612345678' } }), 'contact'],
  ['analytics with a duration', json({ events: [{ name: 'video', duration: 125, timestamp: 1413131405000, type: 2 }] })],
  ['an NMEA sentence with a bad checksum', text('$GPGGA,183005,4851.180,N,00220.994,E,1,08,0.9,35.0,M,47.0,M,,*00\r\n')],
  ['vCard-ish text without VERSION', text('BEGIN:VCARD\r\nFN:Nobody\r\nEND:VCARD\r\n')],
];

for (const [name, flow, only] of negatives) {
  t.test(`stays quiet on ${name}`, async (t) => {
    const loud = inspectFlow(flow, defaultDetectors).drafts.filter((d) => ['medium', 'high', 'critical'].includes(d.severity) && (!only || d.category === only));
    t.same(loud.map((d) => [d.category, d.summary]), []);
  });
}

t.test('Luhn and the classifier', async (t) => {
  t.ok(luhnValid('353456789012348'));
  t.notOk(luhnValid('353456789012345'));
  t.equal(classifyIdentifier('IMEI', 353456789012348)?.kind, 'IMEI', 'numbers as JSON numbers too');
  t.equal(classifyIdentifier('mac', 'a6:5e:60:c1:22:33')?.note, 'randomised (locally administered)');
  t.same(parseVcards('BEGIN:VCARD\nVERSION:4.0\nFN:A B\nTEL;VALUE=uri:tel:+33-6-12-34-56-78\nEND:VCARD\n')[0]?.phones, ['+33-6-12-34-56-78']);
});
