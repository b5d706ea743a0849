// A minimal SMTP server for tests: greets, answers each command line, takes one DATA body to the
// lone dot, and closes on QUIT. It serves a plain or a TLS socket alike (SMTPS).

import type { Duplex } from 'node:stream';

export function serveSmtp(socket: Duplex, name: string, received?: Buffer[]): void {
  socket.write(`220 ${name} ESMTP\r\n`);
  let inData = false;
  socket.on('data', (chunk: Buffer) => {
    received?.push(chunk);
    for (const line of chunk.toString('latin1').split('\r\n').filter(Boolean)) {
      if (inData) {
        if (line === '.') {
          inData = false;
          socket.write('250 queued\r\n');
        }
        continue;
      }
      if (line === 'DATA') {
        inData = true;
        socket.write('354 go\r\n');
      } else if (line === 'QUIT') socket.end('221 bye\r\n');
      else socket.write('250 ok\r\n');
    }
  });
}
