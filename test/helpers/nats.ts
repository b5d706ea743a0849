// A real nats-server with JetStream for the fleet tests (Debian's `nats-server`): on 127.0.0.1, a
// free port, a temporary store; restartable on the same port and store, as an outage would be.

import fs from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { tempDir } from './lab.js';

export const natsServerPath = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => fs.existsSync(p)) ?? (spawnSync('sh', ['-c', 'command -v nats-server']).stdout?.toString().trim() || undefined);

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM) and starts it again on the same port with the same store. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function launch(port: number, store: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(natsServerPath!, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const listening = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const match = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`nats-server exited ${code}: ${log}`)));
  });
  // Ready for JetStream once it says so.
  while (!/Server is ready/.test(log)) await once(child.stderr!, 'data');
  return { child, port: listening };
}

export async function startNats(): Promise<NatsServer> {
  if (!natsServerPath) throw new Error('nats-server is not installed');
  const store = path.join(tempDir('phonehome-nats-'), 'store');
  let { child, port } = await launch(-1, store);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    restart: async () => {
      await stop();
      ({ child } = await launch(port, store));
    },
  };
}
