// MQTT over TLS with Debian's mosquitto clients, direct and through the proxy under test as a
// SOCKS5 proxy (the clients' --proxy speaks SOCKS5 only): mosquitto_pub publishes a retained QoS 1
// message, mosquitto_sub reads it back. The origin terminates TLS (port 8883-style) and relays to a
// real mosquitto broker; it records the MQTT bytes each client sent. The clients have no way to pin
// a name to an address, so "direct" is a SOCKS5 relay that only copies bytes (startPlainSocksRelay),
// which keeps the name, and the TLS SNI, the same in both runs.

import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import t from 'tap';
import { tempDir, unusedPort, until } from '../helpers/lab.js';
import { differential, missingCommand, runClient, startPlainSocksRelay, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const mosquittoPath = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => fs.existsSync(p));
const skip = mosquittoPath === undefined ? 'mosquitto is not installed (apt-get install mosquitto)' : missingCommand('mosquitto_pub', 'mosquitto-clients') ?? missingCommand('mosquitto_sub', 'mosquitto-clients');

/** A mosquitto broker on 127.0.0.1 (plain MQTT, anonymous), ready when it says it is listening. */
async function startBroker(): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await unusedPort();
  const config = path.join(tempDir('conformance-mosquitto-'), 'mosquitto.conf');
  fs.writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type all\n`);
  const child = spawn(mosquittoPath!, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => { if (log.length < 65_536) log += c.toString(); });
  await until(() => /Opening ipv4 listen socket on port/.test(log) || child.exitCode !== null, 15_000, 'mosquitto listening');
  if (child.exitCode !== null) throw new Error(`mosquitto exited ${child.exitCode}: ${log}`);
  return { port, stop: async () => { const exited = once(child, 'exit'); child.kill('SIGTERM'); await exited; } };
}

t.test('mosquitto_pub and mosquitto_sub over TLS', { skip: skip ?? false }, async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const relay = await startPlainSocksRelay();
  t.teardown(() => relay.close());
  const origin = await startRecordingOrigin({ tls: true, hostname: 'mqtt.example.test', relayTo: broker.port });
  t.teardown(() => origin.close());

  const run = async (context: RunContext): Promise<string> => {
    const socks = context.mode === 'direct' ? relay.port : context.proxy.socksPort;
    const common = ['-d', '-h', origin.hostname, '-p', String(origin.port), '--cafile', context.caFile, '--proxy', `socks5h://127.0.0.1:${socks}`, '-t', 'phonehome/contacts'];
    const pub = await runClient('mosquitto_pub', [...common, '-i', 'conformance-pub', '-q', '1', '-r', '-m', 'Ada +44 20 7946 0000']);
    const sub = await runClient('mosquitto_sub', [...common, '-i', 'conformance-sub', '-v', '-C', '1', '-W', '20']);
    return `mosquitto_pub: ${pub.text}\nmosquitto_sub: ${sub.text}`;
  };
  await differential(t, proxy, origin, { name: 'mosquitto pub/sub over TLS', modes: ['socks5'], closesConnections: true, run }, knownDifferences);
});
