// A real nats-server with JetStream for the fleet tests (Debian's `nats-server`): on 127.0.0.1, a
// free port, a temporary store; restartable on the same port and store, as an outage would be.

import { once } from 'node:events';
import path from 'node:path';
import { launchNatsServer, natsServerPath } from '../../src/bench/nats-server.js';
import { tempDir } from './lab.js';

export { natsServerPath };

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM) and starts it again on the same port with the same store. */
  restart(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered — a server too busy to reply. */
  pause(): void;
  /** Lets a paused server go on (SIGCONT). */
  resume(): void;
  stop(): Promise<void>;
}

export async function startNats(): Promise<NatsServer> {
  if (!natsServerPath) throw new Error('nats-server is not installed');
  const store = path.join(tempDir('phonehome-nats-'), 'store');
  let { child, port } = await launchNatsServer(-1, store);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    pause: () => { child.kill('SIGSTOP'); },
    resume: () => { child.kill('SIGCONT'); },
    restart: async () => {
      await stop();
      ({ child } = await launchNatsServer(port, store));
    },
  };
}
