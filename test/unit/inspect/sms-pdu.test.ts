import t from 'tap';
import crypto from 'node:crypto';
import { parseSmsPduHex, unpackGsm7 } from '../../../src/inspect/decode/sms-pdu.js';

/** Builds an SMS-SUBMIT with UCS-2 text, as a phone would send it (TS 23.040 9.2.2.2). */
function submitUcs2(number: string, text: string): string {
  const digits = number.replace(/^\+/, '');
  const bcd = (digits.length % 2 ? `${digits}F` : digits).match(/../g)!.map((p) => p[1]! + p[0]!).join('');
  const ud = Buffer.from(text, 'utf16le').swap16();
  return `0011000${digits.length.toString(16).toUpperCase()}91${bcd}0008AA${ud.length.toString(16).padStart(2, '0')}${ud.toString('hex')}`.toUpperCase();
}

const valid: Array<[string, string, Partial<{ kind: string; address: string; text: string; time: string; smsc: string; encoding: string }>]> = [
  // The tutorial PDU writes its zone octet as 08 meaning +2 h, but TS 23.040 swaps semi-octets and
  // puts the sign in bit 3 of the first: 0x08 reads as -00:00. We follow the spec; phones do.
  ['the classic SMS-DELIVER with SMSC (GSM 7-bit), zone octet as the spec reads it', '07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07',
    { kind: 'deliver', smsc: '+31624000000', address: '+31641600986', text: 'How are you?', time: '2002-08-26T19:37:41-00:00', encoding: 'gsm7' }],
  ['the same SMS-DELIVER with the zone +02:00 encoded as a phone does (0x80)', '07911326040000F0040B911346610089F60000208062917314800CC8F71D14969741F977FD07',
    { time: '2002-08-26T19:37:41+02:00' }],
  ['an SMS-SUBMIT without SMSC', '0011000B916407281553F80000AA0AE8329BFD4697D9EC37', { kind: 'submit', address: '+46708251358', text: 'hellohello' }],
  ['an SMS-SUBMIT with UCS-2 text (accents, emoji)', submitUcs2('+33612345678', 'Rendez-vous demain à 18h 😀'), { kind: 'submit', address: '+33612345678', text: 'Rendez-vous demain à 18h 😀', encoding: 'ucs2' }],
];
for (const [name, hex, expected] of valid) {
  t.test(`decodes ${name}`, async (t) => {
    t.match(parseSmsPduHex(hex), expected);
  });
}

t.test('GSM 7-bit unpacking, with the extension table', async (t) => {
  // "[€]" = 1B 3C, 1B 65, 1B 3E packed
  const septets = [0x1b, 0x3c, 0x1b, 0x65, 0x1b, 0x3e];
  const packed: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const s of septets) {
    acc |= s << bits;
    bits += 7;
    while (bits >= 8) { packed.push(acc & 0xff); acc >>= 8; bits -= 8; }
  }
  if (bits > 0) packed.push(acc);
  t.equal(unpackGsm7(Buffer.from(packed), septets.length), '[€]');
});

const classic = '07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07';
const invalid: Array<[string, string]> = [
  ['one byte of trailing garbage', `${classic}00`],
  ['user data one byte short', classic.slice(0, -2)],
  ['a month of 13 in the time stamp', classic.replace('20806291731408', '20316291731408')],
  ['a non-BCD digit in the sender', classic.replace('1346610089F6', '13466100A9F6')],
  ['a reserved DCS group', classic.replace('0000208062', '0080208062')],
  ['an odd number of hex digits', classic.slice(1)],
  ['not hex at all', 'Z'.repeat(60)],
];
for (const [name, hex] of invalid) {
  t.test(`refuses ${name}`, async (t) => {
    t.equal(parseSmsPduHex(hex), undefined);
  });
}

t.test('hashes and random hex almost never pass', async (t) => {
  let passed = 0;
  for (let i = 0; i < 20_000; i++) {
    const hex = crypto.randomBytes(20 + (i % 60)).toString('hex');
    if (parseSmsPduHex(hex)) passed++;
  }
  for (let i = 0; i < 2000; i++) {
    if (parseSmsPduHex(crypto.createHash(i % 2 ? 'sha256' : 'sha1').update(String(i)).digest('hex'))) passed += 100;
  }
  t.ok(passed <= 5, `${passed} of 20,000 random strings passed, and no hash`);
});
