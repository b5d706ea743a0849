// WebSocketFrameReader: one direction's frames into messages, as a watcher (it must never change
// the bytes it is given, which a relay sends on). Frames that read, and look-alikes that must stop
// the reading instead of giving a message.

import zlib from 'node:zlib';
import t from 'tap';
import { acceptsDeflate, WebSocketFrameReader } from '../../../src/flow/websocket-frame-reader.js';

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

function frame(opcode: number, payload: Buffer, options: { masked?: boolean; fin?: boolean; rsv1?: boolean } = {}): Buffer {
  const masked = options.masked ?? true;
  const first = ((options.fin ?? true) ? 0x80 : 0) | (options.rsv1 ? 0x40 : 0) | opcode;
  const length = payload.length < 126 ? Buffer.from([payload.length | (masked ? 0x80 : 0)]) : Buffer.from([126 | (masked ? 0x80 : 0), payload.length >> 8, payload.length & 0xff]);
  const body = masked ? Buffer.from(payload.map((byte, i) => byte ^ MASK[i % 4]!)) : payload;
  return Buffer.concat([Buffer.from([first]), length, ...(masked ? [MASK] : []), body]);
}

/** A permessage-deflate payload (without the four bytes RFC 7692 strips), against a window when given. */
const deflated = (text: string, window?: string): Buffer => {
  const all = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH, ...(window ? { dictionary: Buffer.from(window) } : {}) });
  return all.subarray(0, all.length - 4);
};

interface Case {
  readonly name: string;
  readonly fromClient: boolean;
  readonly deflate?: boolean;
  readonly bytes: Buffer;
  /** Messages as "text:…" or "binary:<hex>", closes as "close:<code>". */
  readonly events: string[];
  readonly fails?: RegExp;
}

const cases: Case[] = [
  { name: 'a masked text message from the client', fromClient: true, bytes: frame(0x1, Buffer.from('sms:+33612345678 hi')), events: ['text:sms:+33612345678 hi'] },
  { name: 'an unmasked text message from the server', fromClient: false, bytes: frame(0x1, Buffer.from('welcome'), { masked: false }), events: ['text:welcome'] },
  { name: 'a binary message in two fragments, a ping between them', fromClient: true, bytes: Buffer.concat([frame(0x2, Buffer.from('ffd8', 'hex'), { fin: false }), frame(0x9, Buffer.alloc(0)), frame(0x0, Buffer.from('ffe0', 'hex'))]), events: ['binary:ffd8ffe0'] },
  { name: 'a message of 300 bytes (16-bit length)', fromClient: false, bytes: frame(0x1, Buffer.from('x'.repeat(300)), { masked: false }), events: [`text:${'x'.repeat(300)}`] },
  // The second message is compressed against the first one's text, as a sender that keeps its
  // window across messages (context takeover, ws's default) does.
  { name: 'a compressed message, then one that reuses its window', fromClient: false, deflate: true, bytes: Buffer.concat([
    frame(0x1, deflated('mail to ada@example.org'), { masked: false, rsv1: true }),
    frame(0x1, deflated('mail to ada@example.org again', 'mail to ada@example.org'), { masked: false, rsv1: true }),
  ]), events: ['text:mail to ada@example.org', 'text:mail to ada@example.org again'] },
  { name: 'a close with its code', fromClient: true, bytes: frame(0x8, Buffer.from([0x03, 0xe8, ...Buffer.from('bye')])), events: ['close:1000'] },
  { name: 'a close without a code', fromClient: false, bytes: frame(0x8, Buffer.alloc(0), { masked: false }), events: ['close:1005'] },
  // Look-alikes: bytes that are not what the direction may send.
  { name: 'an unmasked frame from the client', fromClient: true, bytes: frame(0x1, Buffer.from('hi'), { masked: false }), events: [], fails: /MASK must be set/ },
  { name: 'a masked frame from the server', fromClient: false, bytes: frame(0x1, Buffer.from('hi')), events: [], fails: /MASK must be clear/ },
  { name: 'a compressed frame where no compression was agreed', fromClient: false, bytes: frame(0x1, deflated('hi'), { masked: false, rsv1: true }), events: [], fails: /RSV1 must be clear/ },
  { name: 'an HTTP request where frames were expected', fromClient: true, bytes: Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), events: [], fails: /frames: / },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const events: string[] = [];
    const reader = new WebSocketFrameReader(c.fromClient, c.deflate ?? false, {
      message: (data, binary) => events.push(binary ? `binary:${data.toString('hex')}` : `text:${data.toString('utf8')}`),
      close: (code) => events.push(`close:${code}`),
    });
    const given = Buffer.from(c.bytes);
    // Fed in small pieces, as a network delivers them.
    for (let at = 0; at < given.length; at += 5) reader.push(given.subarray(at, at + 5));
    t.same(events, c.events);
    if (c.fails) t.match(reader.failure, c.fails);
    else t.equal(reader.failure, undefined);
    t.same(given, c.bytes, 'the bytes given are left as they were');
  });
}

t.test('after a failure nothing more is read', async (t) => {
  const events: string[] = [];
  const told: string[] = [];
  const reader = new WebSocketFrameReader(true, false, { message: (data) => events.push(data.toString()), close: () => events.push('close'), unreadable: (reason) => told.push(reason) });
  reader.push(frame(0x1, Buffer.from('x'), { masked: false }));
  const failure = reader.failure;
  reader.push(frame(0x1, Buffer.from('later')));
  reader.push(frame(0x1, Buffer.from('x'), { masked: false }));
  t.same(events, []);
  t.equal(reader.failure, failure, 'the first reason stays');
  t.same(told, [failure], 'told once, with the reason');
});

t.test('acceptsDeflate reads the server\'s answer', async (t) => {
  t.equal(acceptsDeflate('permessage-deflate; client_max_window_bits=15'), true);
  t.equal(acceptsDeflate('x-webkit-deflate-frame, permessage-deflate'), true);
  t.equal(acceptsDeflate('PerMessage-Deflate'), true);
  t.equal(acceptsDeflate('permessage-deflate-x'), false);
  t.equal(acceptsDeflate(undefined), false);
  t.equal(acceptsDeflate(''), false);
});
