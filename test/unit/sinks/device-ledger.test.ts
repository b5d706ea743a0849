// summary.json's devices and apps: per client, the device its User-Agents describe and the apps its
// flows were attributed to; per run, how many requests got an app at each confidence.

import t from 'tap';
import { DeviceLedger } from '../../../src/sinks/device-ledger.js';
import { makeFlow } from '../../helpers/flows.js';

const DALVIK = 'Dalvik/1.6.0 (Linux; U; Android 4.4.2; HM NOTE 1W MIUI/V5.2.1.0.KHFCNCB)';
const gallery = { id: 'com.miui.gallery', confidence: 'high' as const, evidence: 'X-Requested-With' };

t.test('a phone: its model and OS from the Dalvik User-Agent, its apps with the strongest evidence', async (t) => {
  const ledger = new DeviceLedger();
  ledger.add(makeFlow({ requestHeaders: [['User-Agent', DALVIK]] }));
  ledger.add(makeFlow({ app: { ...gallery, confidence: 'medium', evidence: 'body:package' } }));
  ledger.add(makeFlow({ app: gallery }));
  ledger.add(makeFlow({ client: { ip: '192.168.1.23', port: 1, name: 'phone' }, requestHeaders: [['User-Agent', 'okhttp/3.12.1']] }));
  ledger.add(makeFlow({ client: { ip: '192.168.1.40', port: 2 }, kind: 'tunnel', request: undefined }));
  const [phone, other] = ledger.devices();
  t.match(phone, { client: '192.168.1.23', name: 'phone', flows: 4, model: 'HM NOTE 1W', os: 'Android 4.4.2' });
  t.ok((phone!['frameworks'] as string[]).some((f) => /okhttp/i.test(f)), 'the HTTP stacks seen');
  t.same(phone!['apps'], [{ id: 'com.miui.gallery', flows: 2, confidence: 'high', evidence: 'X-Requested-With' }], 'one app, at its strongest evidence');
  t.match(other, { client: '192.168.1.40', flows: 1, model: null, os: null, apps: [] }, 'a client with only a tunnel: listed, nothing guessed');
  t.same(ledger.attribution(), { requests: 4, high: 1, medium: 1, low: 0, none: 2 });
});

t.test('DNS questions and refused requests are no device activity; thousands of clients stay bounded', async (t) => {
  const ledger = new DeviceLedger();
  ledger.add(makeFlow({ kind: 'dns', request: undefined }));
  ledger.add(makeFlow({ kind: 'rejected' }));
  t.same(ledger.devices(), []);
  for (let i = 0; i < 1_005; i++) ledger.add(makeFlow({ client: { ip: `10.0.${i >> 8}.${i & 255}`, port: 1 } }));
  t.equal(ledger.devices().length, 1_000);
  t.equal(ledger.attribution()['devicesNotListed'], 5);
});
