// A minimal protobuf writer for tests (wire types 0, 2 and 5): messages without a schema, built
// field by field, as apps send them.

export function varint(n: number | bigint): Buffer {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

/** A varint field for a number, a length-delimited one for text or bytes. */
export const pbField = (n: number, value: number | string | Buffer): Buffer => typeof value === 'number'
  ? Buffer.concat([varint(n * 8), varint(value)])
  : Buffer.concat([varint(n * 8 + 2), varint(Buffer.byteLength(value)), Buffer.from(value)]);

export const pbFixed32 = (n: number, value: number): Buffer => {
  const b = Buffer.alloc(5);
  b[0] = n * 8 + 5;
  b.writeUInt32LE(value, 1);
  return b;
};

export const pbMessage = (...fields: Buffer[]): Buffer => Buffer.concat(fields);
