// Data leaving in DNS names: planted values and identifiers in labels, plain, hex, base32, base64
// and split across labels; and the host names of CDNs, mail authentication and reverse lookups,
// which must stay quiet.

import t from 'tap';
import path from 'node:path';
import { loadCanaries } from '../../../src/inspect/canary/canary-file.js';
import { createCanaryDetector } from '../../../src/inspect/canary/canary-detector.js';
import { inspectFlow } from '../../../src/inspect/inspector.js';
import { defaultDetectors } from '../../../src/inspect/detect/registry.js';
import { decodeBase32, decodeLabelText } from '../../../src/inspect/dns/label-encodings.js';
import { dnsNameViews, payloadLabels } from '../../../src/inspect/dns/dns-name-views.js';
import { dnsFlow } from '../../helpers/dns-flows.js';

const canaries = loadCanaries(path.join(import.meta.dirname, '..', '..', 'fixtures', 'canaries', 'lab.yaml'));
const detectors = [...defaultDetectors, createCanaryDetector(canaries)];

const hex = (s: string) => Buffer.from(s).toString('hex');
const base32 = (s: string) => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = '';
  for (const byte of Buffer.from(s)) bits += byte.toString(2).padStart(8, '0');
  return (bits.match(/.{1,5}/g) ?? []).map((chunk) => alphabet[parseInt(chunk.padEnd(5, '0'), 2)]).join('');
};
const b64 = (s: string) => Buffer.from(s).toString('base64').replace(/=+$/, '');
const b64url = (s: string) => Buffer.from(s).toString('base64url');

const drafts = (name: string) => inspectFlow(dnsFlow(name), detectors).drafts;

t.test('base32 (RFC 4648) decodes either case, without padding', async (t) => {
  t.equal(decodeBase32(base32('foobar'))?.toString(), 'foobar');
  t.equal(decodeBase32(base32('foobar').toUpperCase())?.toString(), 'foobar');
  t.equal(decodeBase32('MZXW6YTBOI======')?.toString(), 'foobar', 'the RFC 4648 test vector, padded');
  t.equal(decodeBase32('abc'), undefined, 'a length no encoder makes');
  t.same(decodeLabelText('d1a2b3c4d5e6f7'), [], 'a CDN hash decodes to noise, not text');
  t.same(decodeLabelText(hex('hello world')).map((d) => [d.encoding, d.bytes.toString()]), [['hex', 'hello world']]);
});

t.test('the payload labels are those left of the registered domain', async (t) => {
  t.same(payloadLabels('a1b2.t.example.net'), ['a1b2', 't']);
  t.same(payloadLabels('www.example.co.uk'), ['www']);
  t.same(payloadLabels('example.com'), []);
  t.same(payloadLabels('localhost'), []);
  const views = dnsNameViews(dnsFlow(`${hex('abcdef')}.${hex('ghijkl')}.s1.t.example.net`)).map((v) => v.path.join(' > '));
  t.ok(views.includes('dns:query > name'));
  t.ok(views.includes('dns:query > label:1 > hex'));
  t.ok(views.includes('dns:query > labels:1-2 > hex'), 'two hex labels joined read as one');
  t.ok(views.includes('dns:query > labels:1-4'));
  t.notOk(views.some((v) => v.includes('labels:1-5')), 'the registered domain is not payload');
});

t.test('planted values in labels are found, with a path that says how', async (t) => {
  const sms = 'Le code du portail est 4721B';
  const smsHex = hex(sms);
  // name, canary label, the evidence path it must have
  const rows: Array<[string, string, string, string[]]> = [
    ['plain IMEI in a label', '353456789012348.t.example.net', 'lab-imei', ['dns:query', 'name', 'canary:as planted']],
    ['hex IMEI', `${hex('353456789012348')}.t.example.net`, 'lab-imei', ['dns:query', 'label:1', 'hex', 'canary:as planted']],
    ['hex upper-case', `${hex('353456789012348').toUpperCase()}.t.example.net`, 'lab-imei', ['dns:query', 'label:1', 'hex', 'canary:as planted']],
    ['base32 e-mail (lower-case, no padding)', `${base32('jane.lab@example.com')}.x.example.org`, 'lab-mail', ['dns:query', 'label:1', 'base32', 'canary:as planted']],
    ['base32 upper-case', `${base32('jane.lab@example.com').toUpperCase()}.x.example.org`, 'lab-mail', ['dns:query', 'label:1', 'base32', 'canary:as planted']],
    ['base64 as sent', `${b64(sms)}.t.example.net`, 'planted-sms', ['dns:query', 'label:1', 'base64', 'canary:as planted']],
    ['base64url as sent', `${b64url('jane.lab@example.com?')}.t.example.net`, 'lab-mail', ['dns:query', 'label:1', 'base64url', 'canary:as planted']],
    ['hex split across two labels, a session label after', `${smsHex.slice(0, 28)}.${smsHex.slice(28)}.s07.t.example.net`, 'planted-sms', ['dns:query', 'labels:1-2', 'hex', 'canary:as planted']],
    ['plain phone digits split', '336123.45678.x.example.com', 'lab-phone', ['dns:query', 'labels:1-2', 'canary:digits']],
    // The model keeps names lower-case: base64 then survives only as its precomputed form, matched regardless of case.
    ['base64 lower-cased on the way', `${b64('353456789012348').toLowerCase()}.t.example.net`, 'lab-imei', ['dns:query', 'name', 'canary:as planted, base64']],
  ];
  for (const [what, name, label, expected] of rows) {
    const found = drafts(name).filter((d) => d.canary === label);
    t.equal(found.length, 1, `${what}: one finding`);
    t.same(found[0]?.evidence.path, expected, `${what}: path`);
    t.equal(found[0]?.direction, 'request', `${what}: request`);
  }
});

t.test('a 63-character split as exfiltration tools make it', async (t) => {
  const secret = `note: ${'Le code du portail est 4721B'} ${'x'.repeat(40)}`;
  const encoded = hex(secret);
  t.ok(encoded.length > 63);
  const labels = encoded.match(/.{1,63}/g)!;
  const found = drafts(`${labels.join('.')}.t.example.net`).filter((d) => d.canary === 'planted-sms');
  t.equal(found.length, 1);
  t.same(found[0]?.evidence.path, ['dns:query', 'labels:1-2', 'hex', 'canary:as planted'], 'the shortest run that holds it');
});

t.test('identifiers in labels, under a key that names them', async (t) => {
  const rows: Array<[string, string, string, string]> = [
    ['IMEI under a key in the label', 'imei-356938035643809.t.example.net', 'identifier/imei', 'high'],
    ['IMEI in the label after its key', 'imei.356938035643809.t.example.net', 'identifier/imei', 'high'],
    ['IMEI in a hex label', `${hex('imei:356938035643809')}.t.example.net`, 'identifier/imei', 'high'],
    ['a form split over hex labels', (() => { const h = hex('imei=356938035643809&mac=3c:22:fb:12:34:56'); return `${h.slice(0, 60)}.${h.slice(60)}.t.example.net`; })(), 'identifier/mac', 'medium'],
    ['MAC with its key', 'mac-3c-22-fb-12-34-56.t.example.net', 'identifier/mac', 'medium'],
    ['Android ID', 'android_id-9f8e7d6c5b4a3928.t.example.net', 'identifier/android-id', 'medium'],
    ['advertising ID', 'gaid-38400000-8cf0-11bd-b23e-10b96e40000d.ads.example.com', 'identifier/advertising-id', 'medium'],
    ['an international number in base32', `${base32('+33612345678')}.t.example.net`, 'identifier/phone-number', 'medium'],
    ['an e-mail address in hex', `${hex('jane.doe@mail.example')}.t.example.net`, 'identifier/e-mail', 'medium'],
    ['a placeholder IMEI is said, at info', 'imei-000000000000000.t.example.net', 'identifier/imei', 'info'],
    ['an IMEI whose check digit does not match, at medium', 'imei-353456789012345.t.example.net', 'identifier/imei', 'medium'],
    ['a sequential filler IMEI is said, at info', 'imei-123456789012345.t.example.net', 'identifier/imei', 'info'],
  ];
  for (const [what, name, detector, severity] of rows) {
    const found = drafts(name).filter((d) => d.detector === detector);
    t.equal(found.length, 1, `${what}: one finding (${drafts(name).map((d) => d.detector).join(', ')})`);
    t.equal(found[0]?.severity, severity, `${what}: severity`);
    t.equal(found[0]?.evidence.path[0], 'dns:query', `${what}: path starts with dns:query`);
  }
  const form = drafts(`${hex('imei=356938035643809&mac=3c:22:fb:12:34:56').slice(0, 60)}.${hex('imei=356938035643809&mac=3c:22:fb:12:34:56').slice(60)}.t.example.net`);
  t.equal(form.filter((d) => d.detector === 'identifier/imei').length, 1, 'the IMEI read through the text and through its form is one finding');
});

t.test('look-alikes stay quiet', async (t) => {
  const names = [
    'a23-45-67-89.deploy.static.akamaitechnologies.com',
    'r3---sn-4g5e6nzz.googlevideo.com',
    'd1a2b3c4d5e6f7.cloudfront.net',
    '6f1c7a2e-0d3b-4c55-9a8e-2b1f4d6c7e90.example.com',
    '3f2a9c1e8b7d4f60a1b2c3d4e5f60718.cdn.example.net',
    '356938035643809.example.com',
    'order-356938035643809.shop.example.com',
    'imeistore-356938035643809.example.com',
    'phone-1234567.example.com',
    'selector1._domainkey.example.com',
    '_acme-challenge.www.example.com',
    '_dmarc.example.com',
    '4.3.2.1.in-addr.arpa',
    'b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa',
    'alices-iphone.local',
    'connectivitycheck.gstatic.com',
    'helloworldabc.example.com',
    'mtalk.google.com',
    'e1234.dscb.akamaiedge.net',
    'abcdefgh90817263.execute-api.eu-west-1.amazonaws.com',
  ];
  for (const name of names) t.same(drafts(name).map((d) => `${d.detector}: ${d.summary}`), [], name);
});

t.test('findings carry the mode and the WireGuard peer (the factory)', async (t) => {
  const { FindingFactory } = await import('../../../src/inspect/finding-factory.js');
  const flow = dnsFlow('imei-356938035643809.t.example.net');
  const [draft] = inspectFlow(flow, detectors).drafts;
  const finding = new FindingFactory().fromDraft(draft!, flow);
  t.match(finding, { host: 'imei-356938035643809.t.example.net', mode: 'wireguard', client: { ip: '10.64.0.2', name: 'phone' }, direction: 'request' });
});

t.test('through the inspection worker: a hex canary in a query is a finding with the mode and the peer', async (t) => {
  const { FindingPipeline } = await import('../../../src/app/finding-pipeline.js');
  const { EventBus } = await import('../../../src/flow/events.js');
  const bus = new EventBus();
  const findings: import('../../../src/model/finding.js').Finding[] = [];
  bus.on('finding', (f) => findings.push(f));
  const pipeline = new FindingPipeline(bus, { canariesFile: path.join(import.meta.dirname, '..', '..', 'fixtures', 'canaries', 'lab.yaml') });
  bus.emit('flow:end', dnsFlow(`${hex('353456789012348')}.t.example.net`, { type: 'TXT' }));
  bus.emit('flow:end', dnsFlow('www.example.com'));
  await pipeline.close();
  t.equal(findings.length, 1);
  t.match(findings[0], { canary: 'lab-imei', severity: 'high', direction: 'request', mode: 'wireguard', client: { ip: '10.64.0.2', name: 'phone' }, host: `${hex('353456789012348')}.t.example.net`, evidence: { path: ['dns:query', 'label:1', 'hex', 'canary:as planted'] } });
});

t.test('the name as the device sent it is what is decoded: base64 keeps its letter case', async (t) => {
  const sent = `${b64('Le code du portail est 4721B')}.t.example.net`;
  const recorded = dnsFlow(sent.toLowerCase(), { dns: { asked: sent } });
  const found = inspectFlow(recorded, detectors).drafts.filter((d) => d.canary === 'planted-sms');
  t.same(found[0]?.evidence.path, ['dns:query', 'label:1', 'base64', 'canary:as planted'], 'decoded as sent, not as lower-cased');
  const identifier = `${b64('imei=356938035643809')}.t.example.net`;
  const byIdentifier = inspectFlow(dnsFlow(identifier.toLowerCase(), { dns: { asked: identifier } }), detectors).drafts;
  t.ok(byIdentifier.some((d) => d.detector === 'identifier/imei'), 'an identifier in a base64 label is found');
});
