// A real nats-server with JetStream for the fleet tests (Debian's `nats-server`): on 127.0.0.1, a
// free port, a temporary store; restartable on the same port and store, as an outage would be.

import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { launchNatsServer, natsServerPath } from '../../src/bench/nats-server.js';
import { parseProcStat } from '../../src/util/proc-stat.js';
import { tempDir, until } from './lab.js';

export { natsServerPath };

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM) and starts it again on the same port with the same store. */
  restart(): Promise<void>;
  /**
   * Freezes the server (SIGSTOP): connections stay open, nothing is answered — a server too busy to
   * reply. Resolves once every thread of it has stopped: each thread stops when it next runs, so on
   * a busy machine the server may still answer for a moment after the signal (the likely cause of a
   * CI run where the "frozen" server answered the first request, and its drain then hung).
   */
  pause(): Promise<void>;
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
    pause: async () => {
      child.kill('SIGSTOP');
      await until(() => allThreadsStopped(child.pid!), 10_000, 'nats-server stopped by SIGSTOP');
    },
    resume: () => { child.kill('SIGCONT'); },
    restart: async () => {
      await stop();
      ({ child } = await launchNatsServer(port, store));
    },
  };
}

/** Whether every thread of the process is stopped: its state in /proc/PID/task/TID/stat is T. */
function allThreadsStopped(pid: number): boolean {
  return fs.readdirSync(`/proc/${pid}/task`).every((tid) => parseProcStat(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')).state === 'T');
}
