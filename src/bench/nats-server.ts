// A local nats-server with JetStream for the fleet benchmark and the fleet tests (Debian's
// `nats-server`): on 127.0.0.1, port -1 for a free one, the store in a folder of the caller's.

import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export const natsServerPath = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => fs.existsSync(p));

/** Starts nats-server and resolves once it listens and says it is ready for JetStream. */
export async function launchNatsServer(port: number, store: string): Promise<{ child: ChildProcess; port: number }> {
  if (!natsServerPath) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const child = spawn(natsServerPath, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = once(child, 'exit').then(([code]) => { throw new Error(`nats-server exited ${String(code)}: ${log}`); });
  let listening: number | undefined;
  while (listening === undefined || !/Server is ready/.test(log)) {
    const [chunk] = (await Promise.race([once(child.stderr!, 'data'), exited])) as [Buffer];
    log += chunk.toString();
    const match = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log);
    if (match) listening = Number(match[1]);
  }
  exited.catch(() => undefined);
  return { child, port: listening };
}
