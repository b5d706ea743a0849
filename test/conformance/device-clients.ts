// The microcontroller TLS clients' common part (Mbed TLS, BearSSL): each is a C program of
// test/fixtures/device-tls/, built at test time against Debian's library, that spends a small
// device's day with its cloud: the server here, and the requests it is given on its command line.

import fs from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { pemFile, tempDir } from '../helpers/lab.js';
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

/** How a device's day differs from the usual one. */
export interface DeviceDayOptions {
  /** More environment for the program (its own certificate, say). */
  readonly env?: NodeJS.ProcessEnv;
  /** The device trusts its server's CA besides the proxy's: its connection may pass through untouched. */
  readonly trustsServerToo?: boolean;
}

/**
 * The server's record without the connections that carried nothing past their ClientHello: the
 * look phonehome takes at a server before it answers the device (upstream.ts, probe), which a
 * mutual-TLS server refuses for want of a certificate, and whose connection the device's then
 * does not ride (it passes through on its own). Connections are numbered again in order.
 */
export function withoutHandshakeOnlyConnections(transcript: string): string {
  const segments = transcript.split(/\n(?=--- connection \d+ )/).filter((segment) => segment.length > 0);
  const connectionOf = (segment: string): string => /^--- connection (\d+) /.exec(segment)?.[1] ?? '';
  const carried = new Set(segments.filter((segment) => !/^--- connection \d+ tls\n/.test(segment)).map(connectionOf));
  const numbers = new Map<string, number>();
  return segments.filter((segment) => carried.has(connectionOf(segment))).map((segment) => {
    const connection = connectionOf(segment);
    if (!numbers.has(connection)) numbers.set(connection, numbers.size + 1);
    return segment.replace(/^--- connection \d+ /, `--- connection ${numbers.get(connection)} `);
  }).join('\n');
}

/**
 * A scenario's run: the program for the context's mode, server and CA, with `settings` (its own
 * arguments after the CA file) and the device's day. Throws unless it ended well, so a scenario
 * that fails direct is never compared as "the same failure".
 */
export function deviceDay(program: string, library: string, settings: readonly string[], options: DeviceDayOptions = {}): (context: RunContext) => Promise<string> {
  return async (context) => {
    const { mode, port } = clientProxyArgs(context);
    const { origin } = context;
    // A device whose connection passes through untouched meets its server's own certificate.
    const caFile = options.trustsServerToo ? pemFile(context.proxy.caPem + origin.caPem) : context.caFile;
    const text = (await runClient(program, [mode, String(port), String(origin.port), origin.hostname, caFile, ...settings, ...DEVICE_DAY], { env: options.env ?? {} })).text;
    if (!text.startsWith('exit 0\n')) throw new Error(`the ${library} client failed (${context.mode}): ${/^error .*$/m.exec(text)?.[0] ?? text.slice(0, 300)}`);
    return text;
  };
}
