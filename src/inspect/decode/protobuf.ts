// Protobuf without a schema, and gRPC framing around it. Gate: wire types 0, 1, 2, 5 only; field
// numbers 1…2^29−1; consumed exactly to the end; at least two fields or eight bytes. Text fields
// become strings, nested messages objects (keyed by field number), and binary fields layers of
// their own (a photo inside a protobuf is still a photo).

import { isUtf8 } from 'node:buffer';
import { headerValue } from '../../model/flow.js';
import type { View } from '../detect/detector.js';
import { decompress } from './content-encoding.js';
import { childLayer, printableRatio, type Decoder } from './layer.js';
import { sniff } from './magic.js';
import { withFields } from '../../util/with-fields.js';

export type ProtoValue = number | string | ProtoMessage | { bytes: Buffer };
export interface ProtoMessage { [field: string]: ProtoValue | ProtoValue[] }

const MAX_DEPTH = 16;
const MAX_FIELDS = 50_000;

function readVarint(bytes: Buffer, at: number): [value: number | string, next: number] | undefined {
  let result = 0n;
  for (let i = 0; i < 10; i++) {
    if (at + i >= bytes.length) return undefined;
    const byte = bytes[at + i]!;
    result |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return [result <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(result) : result.toString(), at + i + 1];
  }
  return undefined;
}

/** A protobuf message, or undefined when the bytes are not one (strictly). */
export function parseProtobuf(bytes: Buffer, depth = 0, budget = { fields: MAX_FIELDS }): ProtoMessage | undefined {
  const message: ProtoMessage = {};
  let at = 0;
  let fields = 0;
  while (at < bytes.length) {
    const key = readVarint(bytes, at);
    if (!key || typeof key[0] !== 'number') return undefined;
    at = key[1];
    const field = Math.floor(key[0] / 8);
    const wire = key[0] & 7;
    if (field < 1 || field >= 2 ** 29) return undefined;
    let value: ProtoValue;
    if (wire === 0) {
      const v = readVarint(bytes, at);
      if (!v) return undefined;
      [value, at] = v;
    } else if (wire === 1) {
      if (at + 8 > bytes.length) return undefined;
      // fixed64 is a double as often as an integer: a fractional value in coordinate range is kept
      // as the double it is (a position), anything else as the unsigned integer.
      const double = bytes.readDoubleLE(at);
      value = Number.isFinite(double) && !Number.isInteger(double) && Math.abs(double) <= 180 && Math.abs(double) >= 1e-6 ? double : bytes.readBigUInt64LE(at).toString();
      at += 8;
    } else if (wire === 5) {
      if (at + 4 > bytes.length) return undefined;
      value = bytes.readUInt32LE(at);
      at += 4;
    } else if (wire === 2) {
      const len = readVarint(bytes, at);
      if (!len || typeof len[0] !== 'number' || len[1] + len[0] > bytes.length) return undefined;
      const inner = bytes.subarray(len[1], len[1] + len[0]);
      at = len[1] + len[0];
      value = decodeLengthDelimited(inner, depth, budget);
    } else {
      return undefined; // groups (3, 4) are obsolete, 6 and 7 do not exist
    }
    if (++fields > 10_000 || --budget.fields < 0) return undefined;
    const name = String(field);
    const existing = message[name];
    if (existing === undefined) message[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else message[name] = [existing, value];
  }
  if (fields < 2 && bytes.length < 8) return undefined;
  return message;
}

function decodeLengthDelimited(inner: Buffer, depth: number, budget: { fields: number }): ProtoValue {
  if (inner.length === 0) return '';
  if (isUtf8(inner)) {
    const text = inner.toString('utf8');
    if (printableRatio(text) >= 0.95) return text;
  }
  if (depth < MAX_DEPTH && !sniff(inner)) {
    const nested = parseProtobuf(inner, depth + 1, budget);
    if (nested && Object.keys(nested).length > 0) return nested;
  }
  return { bytes: inner };
}

/** gRPC's length-prefixed messages: [compressed flag][length, 4 bytes BE][message], to the end exactly. */
export function splitGrpcFrames(bytes: Buffer): Array<{ compressed: boolean; trailers: boolean; message: Buffer }> | undefined {
  const frames: Array<{ compressed: boolean; trailers: boolean; message: Buffer }> = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 5 > bytes.length) return undefined;
    const flag = bytes[at]!;
    if ((flag & 0x7e) !== 0) return undefined;
    const length = bytes.readUInt32BE(at + 1);
    if (at + 5 + length > bytes.length) return undefined;
    frames.push({ compressed: (flag & 1) === 1, trailers: (flag & 0x80) !== 0, message: bytes.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return frames.length > 0 ? frames : undefined;
}

/** Turns the {bytes} leaves into layers and the rest into a plain structured value. */
function toStructured(message: ProtoMessage, path: string, blobs: Array<{ path: string; bytes: Buffer }>): Record<string, unknown> {
  const convert = (value: ProtoValue, at: string): unknown => {
    if (typeof value === 'object' && 'bytes' in value && Buffer.isBuffer(value.bytes)) {
      blobs.push({ path: at, bytes: value.bytes });
      return `(${value.bytes.length} bytes)`;
    }
    if (typeof value === 'object') return toStructured(value as ProtoMessage, at, blobs);
    return value;
  };
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(message)) {
    out[field] = Array.isArray(value) ? value.map((v, i) => convert(v, `${path}.${field}[${i}]`)) : convert(value, `${path}.${field}`);
  }
  return out;
}

function protobufLayers(view: View, bytes: Buffer, step: string): View[] {
  const message = parseProtobuf(bytes);
  if (!message) return [];
  const blobs: Array<{ path: string; bytes: Buffer }> = [];
  const structured = toStructured(message, '', blobs);
  const layer = childLayer(view, bytes, step, { structured, contentType: 'application/x-protobuf' });
  const children = blobs.filter((b) => b.bytes.length >= 64).map((b) => childLayer(layer, b.bytes, `protobuf:${b.path.slice(1)}`));
  return [layer, ...children.map((c) => withFields(c, { depth: layer.depth + 1 }))];
}

const DECLARED = /^application\/(x-)?(protobuf|proto|grpc|grpc\+proto|grpc-web(\+proto)?|vnd\.google\.protobuf|octet-stream)$/;

export const protobufDecoder: Decoder = {
  name: 'protobuf',
  decode(view) {
    if (view.structured !== undefined || view.bytes.length < 2 || view.origin === 'stream') return [];
    const type = view.contentType ?? '';
    if (type && !DECLARED.test(type)) return [];
    if (!type && view.depth === 0 && view.origin !== 'websocket') return [];
    const head = view.bytes.subarray(0, 64 * 1024);
    if (sniff(view.bytes) || (isUtf8(head) && printableRatio(head.toString('utf8')) > 0.95)) return [];
    if (type.includes('grpc')) {
      const frames = splitGrpcFrames(view.bytes);
      if (!frames) return [];
      const encoding = view.headers ? headerValue(view.headers, 'grpc-encoding') : undefined;
      return frames.filter((f) => !f.trailers).flatMap((frame, i) => {
        const message = frame.compressed && encoding === 'gzip' ? decompress('gzip', frame.message, 64 * 1024 * 1024) : frame.message;
        return protobufLayers(view, message, `grpc:message[${i}]`);
      });
    }
    return protobufLayers(view, view.bytes, 'protobuf');
  },
};
