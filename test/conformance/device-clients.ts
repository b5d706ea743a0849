// The microcontroller TLS clients' common part (Mbed TLS, BearSSL): each is a C program of
// test/fixtures/device-tls/, built at test time against Debian's library, that spends a small
// device's day with its cloud: the server here, and the requests it is given on its command line.

import fs from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { tempDir } from '../helpers/lab.js';
import { clientProxyArgs, missingCommand, runClient, type RunContext } from './differential.js';

/** A firmware image's size: many records of whatever size the device asked for. */
const IMAGE_BYTES = 300_000;

/** A device API's server: JSON saying what it read, and a firmware image. */
export function deviceApi(req: { method?: string; url?: string; on: (e: string, f: (c?: Buffer) => void) => unknown }, res: { setHeader: (n: string, v: string) => unknown; end: (b: string | Buffer) => unknown }): void {
  let bytes = 0;
  req.on('data', (chunk) => { bytes += chunk!.length; });
  req.on('end', () => {
    if (req.url === '/v1/ota/image') {
      res.setHeader('content-type', 'application/octet-stream');
      res.end(Buffer.from(Array.from({ length: IMAGE_BYTES }, (_, i) => (i * 7 + (i >> 9)) & 0xff)));
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, bytes }));
  });
}

const HEAD = 'Host: api.example.test\\r\\nUser-Agent: ESP32 HTTP Client/1.0\\r\\n';
const TELEMETRY = '{"temp":21.5,"rssi":-61,"on":1}';

/** A config fetch and a telemetry post on one connection, then a second connection (a resumed session) that downloads an image. */
export const DEVICE_DAY = [
  `GET /v1/config?device=esp32-7c9e HTTP/1.1\\r\\n${HEAD}\\r\\n`,
  `POST /v1/telemetry HTTP/1.1\\r\\n${HEAD}Content-Type: application/json\\r\\nContent-Length: ${TELEMETRY.length}\\r\\n\\r\\n${TELEMETRY}`,
  '--',
  `GET /v1/ota/image HTTP/1.1\\r\\n${HEAD}\\r\\n`,
];


/** A client program of test/fixtures/device-tls/ and what building it needs. */
export interface DeviceClient {
  /** Its library's name, for messages. */
  readonly library: string;
  /** Its source file in test/fixtures/device-tls/. */
  readonly source: string;
  /** A header of the library, and the Debian package that has it. */
  readonly header: string;
  readonly debianPackage: string;
  /** The compiler's arguments for the library (include folders and libraries). */
  readonly flags: readonly string[];
}

/** Why the client cannot be built here, or undefined when it can. */
export function missingToBuild(client: DeviceClient): string | undefined {
  return missingCommand('cc', 'gcc') ?? (fs.existsSync(client.header) ? undefined : `${client.library} is not installed (apt-get install ${client.debianPackage})`);
}

/** Builds the client in a folder of the test's own: the program's path, or undefined (a failed assertion says why). */
export async function buildDeviceClient(t: Test, client: DeviceClient): Promise<string | undefined> {
  const program = path.join(tempDir('conformance-device-tls-'), path.basename(client.source, '.c'));
  const source = path.join(import.meta.dirname, '..', 'fixtures', 'device-tls', client.source);
  const built = await runClient('cc', ['-O1', '-o', program, source, ...client.flags]);
  t.equal(built.status, 0, `cc ${client.source}: ${built.text}`);
  return built.status === 0 ? program : undefined;
}

/**
 * A scenario's run: the program for the context's mode, server and CA, with `settings` (its own
 * arguments after the CA file) and the device's day. Throws unless it ended well, so a scenario
 * that fails direct is never compared as "the same failure".
 */
export function deviceDay(program: string, library: string, settings: readonly string[]): (context: RunContext) => Promise<string> {
  return async (context) => {
    const { mode, port } = clientProxyArgs(context);
    const { origin } = context;
    const text = (await runClient(program, [mode, String(port), String(origin.port), origin.hostname, context.caFile, ...settings, ...DEVICE_DAY])).text;
    if (!text.startsWith('exit 0\n')) throw new Error(`the ${library} client failed: ${text.slice(0, 300)}`);
    return text;
  };
}
