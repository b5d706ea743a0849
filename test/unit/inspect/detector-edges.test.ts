// Detectors' and the canary file's edges (issue #23, planted bugs): one Wi-Fi access point or one
// cell tower is said in the singular, two in the plural; a canary file whose list is empty or not
// a list is refused in one line.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { loadCanaries } from '../../../src/inspect/canary/canary-file.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { makeFlow } from '../../helpers/flows.js';
import { tempDir } from '../../helpers/lab.js';

const radioSummary = (value: unknown): string | undefined => {
  const flow = makeFlow({ requestBody: JSON.stringify(value), requestHeaders: [['Content-Type', 'application/json']] });
  return inspectFlow(flow, defaultDetectors).drafts.find((d) => d.detector === 'location/radio-scan')?.summary;
};
const ap = (mac: string) => ({ bssid: mac, rssi: -60 });
const cell = (cid: number) => ({ mcc: 208, mnc: 1, cid, lac: 12 });

t.test('one access point and one tower in the singular, two in the plural', async (t) => {
  t.equal(radioSummary({ wifi: [ap('a4:5e:60:c1:22:33')] }), '1 Wi-Fi access point (BSSID): enough to place the device on a map');
  t.equal(radioSummary({ wifi: [ap('a4:5e:60:c1:22:33'), ap('f0:9f:c2:11:22:33')] }), '2 Wi-Fi access points (BSSID): enough to place the device on a map');
  t.equal(radioSummary({ cells: [cell(1)] }), '1 cell tower: enough to place the device on a map');
  t.equal(radioSummary({ cells: [cell(1), cell(2)] }), '2 cell towers: enough to place the device on a map');
  t.equal(radioSummary({ wifi: [ap('a4:5e:60:c1:22:33')], cells: [cell(1), cell(2)] }), '1 Wi-Fi access point (BSSID) and 2 cell towers: enough to place the device on a map');
  t.equal(radioSummary({ wifi: [{ bssid: 'not a mac', rssi: -60 }] }), undefined, 'no access point, no tower: no finding');
});

t.test('search queries: two at least, the first two named, each whole at 30 characters and cut at 31', async (t) => {
  const summaryOf = (queries: string[]): string | undefined => {
    const flow = makeFlow({ requestBody: JSON.stringify({ searches: queries.map((query, i) => ({ query, time: 1413131405000 + i * 1000 })) }), requestHeaders: [['Content-Type', 'application/json']] });
    return inspectFlow(flow, defaultDetectors).drafts.find((d) => d.detector === 'browsing/search-queries')?.summary;
  };
  const at30 = 'symptomes depression a paris 1';
  const at31 = 'avocat divorce paris pas cher 12';
  t.equal(at30.length, 30);
  t.equal(summaryOf([at30, `${at31.slice(0, 31)}`, 'third query never named']), `3 search queries incl. '${at30}', '${at31.slice(0, 30)}…'`);
  t.equal(summaryOf(['symptomes depression', 'avocat divorce paris']), "2 search queries incl. 'symptomes depression', 'avocat divorce paris'");
  t.equal(summaryOf(['symptomes depression']), undefined, 'one query: no finding');
});

t.test('coordinates given as text count like numbers, two decimals at least, blanks around allowed', async (t) => {
  const position = (location: Record<string, unknown>): string | undefined => {
    const flow = makeFlow({ requestBody: JSON.stringify({ location }), requestHeaders: [['Content-Type', 'application/json']] });
    return inspectFlow(flow, defaultDetectors).drafts.find((d) => d.detector === 'location/coordinates')?.summary;
  };
  t.match(position({ lat: '48.853012', lng: '2.349902' }), /^Position 48\.8530, 2\.3499 /);
  t.match(position({ lat: ' 48.853012 ', lng: '2.349902' }), /^Position 48\.8530, 2\.3499 /);
  t.match(position({ lat: 48.853012, lng: '2.349902' }), /^Position 48\.8530, 2\.3499 /, 'one of each');
  t.equal(position({ lat: '48.8', lng: '2.3' }), undefined, 'one decimal: too coarse to be text coordinates');
  t.equal(position({ lat: 'north', lng: 'east' }), undefined);
});

t.test('a contact needs a name under a name key, with a letter in it, and a phone or an address', async (t) => {
  const contacts = (rows: Array<Record<string, string>>): string | undefined => {
    const flow = makeFlow({ requestBody: JSON.stringify({ contacts: rows }), requestHeaders: [['Content-Type', 'application/json']] });
    return inspectFlow(flow, defaultDetectors).drafts.find((d) => d.category === 'contact')?.summary;
  };
  const phones = ['+33612345678', '+33698765432'];
  t.match(contacts([{ name: 'Jean Dupont', phone: phones[0]! }, { name: 'Marie Curie', phone: phones[1]! }]), /^2 contacts/);
  t.equal(contacts([{ label: 'Support', phone: phones[0]! }, { label: 'Sales', phone: phones[1]! }]), undefined, 'a label is not a name');
  t.equal(contacts([{ name: '1234', phone: phones[0]! }, { name: '5678', phone: phones[1]! }]), undefined, 'a name without a letter is none');
});

t.test('positions: read down to a bounded depth and counted to a bounded number', async (t) => {
  const coordinates = (body: unknown): string | undefined => {
    const flow = makeFlow({ requestBody: JSON.stringify(body), requestHeaders: [['Content-Type', 'application/json']] });
    return inspectFlow(flow, defaultDetectors).drafts.find((d) => d.detector === 'location/coordinates')?.summary;
  };
  const point = (i: number) => ({ lat: 48.853012 + i / 1e5, lng: 2.349902 });
  t.match(coordinates({ track: Array.from({ length: 1100 }, (_, i) => point(i)) }), /^1001 positions, first 48\.8530, 2\.3499 /, 'past 1000: the walk stops after the next one');
  t.match(coordinates({ track: Array.from({ length: 1000 }, (_, i) => point(i)) }), /^1000 positions, /);
  const nested = (levels: number): unknown => {
    let value: unknown = point(0);
    for (let i = 0; i < levels; i++) value = { inner: value };
    return value;
  };
  t.match(coordinates(nested(16)), /^Position 48\.8530/, 'an object sixteen levels down: read');
  t.equal(coordinates(nested(17)), undefined, 'seventeen: past the bound');
});

t.test('a canary file with an empty list, or a list that is not one, is refused', async (t) => {
  const dir = tempDir();
  const write = (text: string): string => {
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, text);
    return file;
  };
  for (const text of ['canaries: []\n', '[]\n', 'canaries: "+33612345678"\n', 'canaries: { label: a }\n', 'other: 1\n']) {
    t.throws(() => loadCanaries(write(text)), { message: /c\.yaml:1: expected a list of canaries \(a top-level "canaries:" list\)$/ }, JSON.stringify(text));
  }
  t.equal(loadCanaries(write('canaries:\n  - { label: a, type: phone, value: "+33612345678" }\n')).length, 1, 'a list of one: read');
  t.equal(loadCanaries(write('- { label: a, type: phone, value: "+33612345678" }\n')).length, 1, 'a bare top-level list: read');
});
