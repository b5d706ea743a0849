// SMS PDUs (3GPP TS 23.040, in the hex form of TS 27.005): a strict validator first — SMSC, TOA
// bits, BCD digits, reserved DCS groups, timestamp ranges, and user data that must end exactly at
// the end of the buffer — then decoding of GSM 7-bit (with the extension table) and UCS-2 text.
// A random hex string almost never passes; a hash never does.

export interface SmsPdu {
  readonly kind: 'deliver' | 'submit';
  readonly smsc?: string;
  /** Sender (DELIVER) or recipient (SUBMIT). */
  readonly address: string;
  readonly text: string;
  readonly encoding: 'gsm7' | '8bit' | 'ucs2';
  /** Service-centre time stamp (DELIVER), ISO 8601 with the zone. */
  readonly time?: string;
}

// GSM 03.38 default alphabet and its extension table (after 0x1B).
const GSM7 = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXT: Record<number, string> = { 0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|', 0x65: '€' };

class Reader {
  at = 0;
  constructor(readonly bytes: Buffer) {}
  get left(): number { return this.bytes.length - this.at; }
  u8(): number {
    if (this.at >= this.bytes.length) throw new RangeError('short');
    return this.bytes[this.at++]!;
  }
  take(n: number): Buffer {
    if (n < 0 || this.at + n > this.bytes.length) throw new RangeError('short');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

/** Swapped-nibble BCD digits; F is allowed only as the final filler. */
function bcd(bytes: Buffer, digits: number): string | undefined {
  let out = '';
  for (let i = 0; i < digits; i++) {
    const byte = bytes[i >> 1]!;
    const nibble = i % 2 === 0 ? byte & 0x0f : byte >> 4;
    // *, # and a–c are legal in some addresses, but not in the phone numbers a PDU carries.
    if (nibble > 9) return undefined;
    out += String(nibble);
  }
  if (digits % 2 === 1 && bytes[digits >> 1]! >> 4 !== 0x0f) return undefined;
  return out;
}

export function unpackGsm7(bytes: Buffer, septets: number, skipBits = 0): string {
  let text = '';
  let escape = false;
  for (let i = 0; i < septets; i++) {
    const bit = skipBits + i * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    const value = ((bytes[byte]! >> shift) | ((bytes[byte + 1] ?? 0) << (8 - shift))) & 0x7f;
    if (escape) {
      text += GSM7_EXT[value] ?? '';
      escape = false;
    } else if (value === 0x1b) escape = true;
    else text += GSM7[value] ?? '?';
  }
  return text;
}

function address(reader: Reader): string | undefined {
  const digits = reader.u8();
  const toa = reader.u8();
  if (digits > 20 || (toa & 0x80) === 0) return undefined;
  const raw = reader.take(Math.ceil(digits / 2));
  if ((toa & 0x70) === 0x50) return unpackGsm7(raw, Math.floor((digits * 4) / 7)); // alphanumeric sender
  const number = bcd(raw, digits);
  if (number === undefined || number.length === 0) return undefined;
  return (toa & 0x70) === 0x10 ? `+${number}` : number;
}

function alphabet(dcs: number): SmsPdu['encoding'] | undefined {
  const group = dcs >> 4;
  if (group <= 0x07) {
    const a = (dcs >> 2) & 0x03;
    if ((dcs & 0x20) !== 0) return undefined; // compressed text
    return a === 0 ? 'gsm7' : a === 1 ? '8bit' : a === 2 ? 'ucs2' : undefined;
  }
  if (group >= 0x08 && group <= 0x0b) return undefined; // reserved
  if (group === 0x0c || group === 0x0d) return 'gsm7';
  if (group === 0x0e) return 'ucs2';
  return (dcs & 0x04) === 0 ? 'gsm7' : '8bit';
}

function scts(bytes: Buffer): string | undefined {
  const d = (b: number): number => (b & 0x0f) * 10 + (b >> 4);
  if (bytes.some((b, i) => i < 6 && ((b & 0x0f) > 9 || b >> 4 > 9))) return undefined;
  const [yy, mo, dd, hh, mi, ss] = [...bytes.subarray(0, 6)].map(d) as [number, number, number, number, number, number];
  const tzByte = bytes[6]!;
  const quarters = (tzByte & 0x07) * 10 + (tzByte >> 4);
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59 || quarters > 56 || (tzByte >> 4) > 9) return undefined;
  const sign = tzByte & 0x08 ? '-' : '+';
  const tz = `${sign}${String(Math.floor(quarters / 4)).padStart(2, '0')}:${String((quarters % 4) * 15).padStart(2, '0')}`;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `20${pad(yy)}-${pad(mo)}-${pad(dd)}T${pad(hh)}:${pad(mi)}:${pad(ss)}${tz}`;
}

function parseTpdu(reader: Reader, smsc: string | undefined): SmsPdu | undefined {
  const first = reader.u8();
  const mti = first & 0x03;
  if (mti !== 0 && mti !== 1) return undefined;
  const udhi = (first & 0x40) !== 0;
  if (mti === 1) reader.u8(); // TP-MR
  const addr = address(reader);
  if (addr === undefined) return undefined;
  reader.u8(); // TP-PID
  const encoding = alphabet(reader.u8());
  if (!encoding) return undefined;
  let time: string | undefined;
  if (mti === 0) {
    time = scts(reader.take(7));
    if (!time) return undefined;
  } else {
    const vpf = (first >> 3) & 0x03;
    if (vpf === 2) reader.u8();
    else if (vpf !== 0) reader.take(7);
  }
  const udl = reader.u8();
  const udBytes = encoding === 'gsm7' ? Math.ceil((udl * 7) / 8) : udl;
  if (encoding === 'gsm7' ? udl > 160 : udl > 140) return undefined;
  // The strongest test: the user data ends exactly where the PDU does.
  if (reader.left !== udBytes) return undefined;
  const ud = reader.take(udBytes);
  let headerBytes = 0;
  if (udhi) {
    headerBytes = ud[0]! + 1;
    if (headerBytes > ud.length) return undefined;
  }
  let text: string;
  if (encoding === 'gsm7') {
    const skipSeptets = Math.ceil((headerBytes * 8) / 7);
    text = unpackGsm7(ud, udl - skipSeptets, skipSeptets * 7);
  } else if (encoding === 'ucs2') {
    const body = ud.subarray(headerBytes);
    if (body.length % 2 !== 0) return undefined;
    text = Buffer.from(body).swap16().toString('utf16le');
  } else {
    text = ud.subarray(headerBytes).toString('latin1');
  }
  return { kind: mti === 0 ? 'deliver' : 'submit', ...(smsc ? { smsc } : {}), address: addr, text, encoding, ...(time ? { time } : {}) };
}

function tryParse(bytes: Buffer, withSmsc: boolean): SmsPdu | undefined {
  try {
    const reader = new Reader(bytes);
    let smsc: string | undefined;
    if (withSmsc) {
      const length = reader.u8();
      if (length > 11) return undefined;
      if (length > 0) {
        const toa = reader.u8();
        if ((toa & 0x80) === 0) return undefined;
        const digits = bcd(reader.take(length - 1), (length - 1) * 2 - ((bytes[length]! >> 4) === 0x0f ? 1 : 0));
        if (digits === undefined) return undefined;
        smsc = (toa & 0x70) === 0x10 ? `+${digits}` : digits;
      }
    }
    return parseTpdu(reader, smsc);
  } catch {
    return undefined;
  }
}

/** A PDU from its bytes, with or without the SMSC prefix; undefined unless it validates. */
export function parseSmsPdu(bytes: Buffer): SmsPdu | undefined {
  if (bytes.length < 13 || bytes.length > 176) return undefined;
  return tryParse(bytes, true) ?? tryParse(bytes, false);
}

/** A PDU from its TS 27.005 hex form, with or without the SMSC prefix; undefined unless it validates. */
export function parseSmsPduHex(hex: string): SmsPdu | undefined {
  const trimmed = hex.trim();
  if (trimmed.length % 2 !== 0 || trimmed.length < 26 || trimmed.length > 352 || !/^[0-9a-fA-F]+$/.test(trimmed)) return undefined;
  return parseSmsPdu(Buffer.from(trimmed, 'hex'));
}
