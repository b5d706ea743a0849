// A TCP relay between a real client and a real server on 127.0.0.1 that writes down each side's
// chunks in the order they passed, as a RecordedSession: what a capture-file reader would hand the
// offline layers, recorded from real clients so tests do not feed the layers what we think the
// bytes are. TLS facts (sni, alpn, decrypted) are added by the test: the relay sees plaintext.

import net from 'node:net';
import type { RecordedChunk, RecordedSession, RecordedTls } from '../../src/capture-file/recorded-session.js';

export interface SessionRecorder {
  readonly port: number;
  /** The next connection to end through the relay, in the order they ended. */
  next(): Promise<RecordedSession>;
  close(): Promise<void>;
}

export async function startSessionRecorder(upstreamPort: number, tls?: RecordedTls): Promise<SessionRecorder> {
  const finished: RecordedSession[] = [];
  const waiting: Array<(session: RecordedSession) => void> = [];
  const deliver = (session: RecordedSession): void => {
    const waiter = waiting.shift();
    if (waiter) waiter(session);
    else finished.push(session);
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const startedAt = new Date().toISOString();
    const chunks: RecordedChunk[] = [];
    let bytesUp = 0;
    let bytesDown = 0;
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let closed = 0;
    const onClose = (): void => {
      if (++closed < 2) return;
      deliver({
        client: { ip: '127.0.0.1', port: client.remotePort ?? 0 }, server: { ip: '127.0.0.1', port: upstreamPort },
        startedAt, endedAt: new Date().toISOString(), ...(tls ? { tls } : {}), chunks, bytesUp, bytesDown, tags: [],
      });
    };
    client.on('data', (data: Buffer) => {
      chunks.push({ fromClient: true, time: new Date().toISOString(), data });
      bytesUp += data.length;
      upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => {
      chunks.push({ fromClient: false, time: new Date().toISOString(), data });
      bytesDown += data.length;
      client.write(data);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => {
      sockets.delete(client);
      onClose();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      onClose();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    next: () => new Promise((resolve) => {
      const ready = finished.shift();
      if (ready) resolve(ready);
      else waiting.push(resolve);
    }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The session cut after `bytes` bytes of application data, as a capture that stopped there. */
export function cutSession(session: RecordedSession, bytes: number, tags: readonly string[] = session.tags): RecordedSession {
  const chunks: RecordedChunk[] = [];
  let left = bytes;
  for (const chunk of session.chunks) {
    if (left <= 0) break;
    chunks.push({ ...chunk, data: chunk.data.subarray(0, left) });
    left -= chunk.data.length;
  }
  return { ...session, chunks, tags };
}
