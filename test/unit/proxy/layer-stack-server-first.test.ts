// A client that has not spoken yet on a port that does not say who speaks first: the layer stack
// decides on whichever comes first, the client's bytes, its silence, or (for a redirected device,
// told nothing yet, and a SOCKS5 one) its server's first bytes on the connection opened before (server-first-word.ts). Real sockets on
// 127.0.0.1 for the servers and for a peeked device; the layers are stand-ins that record what
// they were handed. A device stream that is not a TCP socket (read in JavaScript, never peeked) is
// a plain Duplex.

import t, { type Test } from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import type { CaptureMode } from '../../../src/model/flow.js';
import type { Target } from '../../../src/proxy/access/target.js';
import { newConnectionContext, type ConnectionContext } from '../../../src/proxy/context.js';
import { openFirstConnection, takeFirstConnection } from '../../../src/proxy/first-connection.js';
import { LayerStack, type Layers } from '../../../src/proxy/layers/layer-stack.js';
import type { PassthroughPolicy } from '../../../src/proxy/passthrough.js';
import { socketPeekAvailable } from '../../../src/proxy/socket-peek.js';
import { connectedPair, withLimit, within } from '../../helpers/lab.js';

interface Handed {
  readonly layer: string;
  readonly first: Buffer | undefined;
  readonly why?: string;
}

/** A stack whose layers record what they are handed; `next()` waits for the next hand-over. */
function recordingStack(): { stack: LayerStack; next(): Promise<Handed> } {
  let waiting: ((handed: Handed) => void) | undefined;
  const handed: Handed[] = [];
  const record = (entry: Handed): void => {
    handed.push(entry);
    waiting?.(handed.shift()!);
  };
  const layers = {
    tls: { handle: (_socket: Duplex, first: Buffer) => record({ layer: 'tls', first }) },
    http1: { handle: () => record({ layer: 'http1', first: undefined }) },
    raw: { relay: (_socket: Duplex, first: Buffer | undefined, _context: unknown, why: string) => record({ layer: 'raw', first, why }) },
    starttls: { handle: (_socket: Duplex, first: Buffer | undefined, _context: unknown, _protocol: unknown, why: string) => record({ layer: 'starttls', first, why }) },
  };
  const stack = new LayerStack(layers as unknown as Layers, { decide: () => undefined } as unknown as PassthroughPolicy);
  return {
    stack,
    next: () => within(new Promise<Handed>((resolve) => {
      const ready = handed.shift();
      if (ready) resolve(ready);
      else waiting = resolve;
    }), 10_000, 'a layer to be handed the connection'),
  };
}

/** A server on 127.0.0.1:0 that greets each connection with `greeting` (or says nothing); its port. */
async function startServer(t: Test, greeting: string | undefined): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    if (greeting) socket.write(greeting);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => { server.close(); });
  return (server.address() as net.AddressInfo).port;
}

/**
 * A context for a connection to `port`, with its first connection made, as LayerStack.enter makes
 * it; redirected (transparent) unless `mode` says otherwise.
 */
async function connectedContext(t: Test, port: number, mode: CaptureMode = 'transparent'): Promise<ConnectionContext> {
  const context = newConnectionContext(mode, { ip: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port, hostKind: 'ipv4' } as Target);
  context.firstConnection = await openFirstConnection(context, undefined, 5_000);
  t.teardown(() => { context.firstConnection?.destroy(); });
  return context;
}

/** A device whose stream is read in JavaScript (not a TCP socket: never peeked). */
function streamDevice(): Duplex {
  return new Duplex({ read: () => undefined, write: (_chunk, _encoding, callback) => callback() });
}

/** Reads the first connection the way the layer that takes it does, until `text` has come. */
async function readFirstConnection(context: ConnectionContext, text: string): Promise<string> {
  const server = takeFirstConnection(context)!;
  let read = '';
  await within(new Promise<void>((resolve) => server.on('data', (chunk: Buffer) => {
    read += chunk.toString('latin1');
    if (read.length >= text.length) resolve();
  })), 10_000, 'the greeting read from the first connection');
  server.destroy();
  return read;
}

const GREETING = 'J\u0000\u0000\u0000\n8.0.36\u0000'; // how a MySQL server's greeting begins
const devices: Array<[string, (t: Test) => Promise<Duplex>, string | false]> = [
  ['a device read in JavaScript', async () => streamDevice(), false],
  ['a peeked device', async (t) => (await connectedPair(t))[1], socketPeekAvailable() ? false : 'the socket-peek addon is not built here'],
];

for (const [name, makeDevice, skip] of devices) {
  t.test(`${name}, silent, and a server that greets first on a port we do not know: decided on the greeting, which is still unread`, { skip }, async (t) => {
    // Endless: deciding on the client's silence would show as a hang.
    withLimit(t, 'connectSniffTimeoutMs', 3_600_000);
    const { stack, next } = recordingStack();
    const context = await connectedContext(t, await startServer(t, GREETING));
    stack.start(await makeDevice(t), context, Buffer.alloc(0));
    t.match(await next(), { layer: 'starttls', why: 'server-speaks-first' });
    t.equal(await readFirstConnection(context, GREETING), GREETING, 'the layer that takes the connection reads the greeting from its first byte');
  });

  t.test(`${name} that stays silent, and a server that does too: the sniff window decides (client-silent)`, { skip }, async (t) => {
    withLimit(t, 'connectSniffTimeoutMs', 50);
    const { stack, next } = recordingStack();
    stack.start(await makeDevice(t), await connectedContext(t, await startServer(t, undefined)), Buffer.alloc(0));
    t.match(await next(), { layer: 'starttls', why: 'client-silent' });
  });
}

t.test('an http device, told its tunnel is open (200), that stays silent while its server greets: the sniff window decides, so the greeting never comes with the reply', async (t) => {
  withLimit(t, 'connectSniffTimeoutMs', 50);
  const { stack, next } = recordingStack();
  const context = await connectedContext(t, await startServer(t, GREETING), 'http');
  stack.start(streamDevice(), context, Buffer.alloc(0));
  t.match(await next(), { layer: 'starttls', why: 'client-silent' });
  t.equal(context.firstConnection!.listenerCount('readable'), 0, 'the server was not listened to');
});

t.test('a socks5 device, sent its reply (of a length it reads exactly), silent while its server greets: decided on the greeting', async (t) => {
  // Endless: deciding on the client's silence would show as a hang.
  withLimit(t, 'connectSniffTimeoutMs', 3_600_000);
  const { stack, next } = recordingStack();
  const context = await connectedContext(t, await startServer(t, GREETING), 'socks5');
  stack.start(streamDevice(), context, Buffer.alloc(0));
  t.match(await next(), { layer: 'starttls', why: 'server-speaks-first' });
  t.equal(await readFirstConnection(context, GREETING), GREETING, 'the greeting is still unread');
});

t.test('a device read in JavaScript that speaks first decides, and the server is no longer listened to', async (t) => {
  withLimit(t, 'connectSniffTimeoutMs', 3_600_000);
  const { stack, next } = recordingStack();
  const device = streamDevice();
  const context = await connectedContext(t, await startServer(t, undefined));
  stack.start(device, context, Buffer.alloc(0));
  device.push('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
  t.match(await next(), { layer: 'http1' });
  t.equal(context.firstConnection!.listenerCount('readable'), 0, 'the server is no longer listened to');
});

t.test('a peeked device that speaks first decides, and the server is no longer listened to', { skip: socketPeekAvailable() ? false : 'the socket-peek addon is not built here' }, async (t) => {
  withLimit(t, 'connectSniffTimeoutMs', 3_600_000);
  const { stack, next } = recordingStack();
  const [phone, device] = await connectedPair(t); // a device on a real TCP connection: peeked
  const context = await connectedContext(t, await startServer(t, undefined));
  stack.start(device, context, Buffer.alloc(0));
  phone.write('EHLO phone\r\n');
  t.match(await next(), { layer: 'raw', why: 'not-tls-or-http' });
  t.equal(context.firstConnection!.listenerCount('readable'), 0);
});
