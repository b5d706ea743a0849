// One proxy loop of a capture with --threads N: a cluster worker that runs only the
// InterceptingProxy, accepting on the port(s) it shares with the other loops, and hands every
// event of its bus to the primary, which numbers the flows, records and inspects them. What one
// loop learns (a leaf, a pinned host) it tells the primary, which tells the others.
//
// It stops only when the primary says so (its signals are the primary's to handle: a Ctrl-C
// reaches the whole process group), drains its open flows, and says 'stopped' after the last one.
// Should the primary go away, the channel closes and the loop ends.

import { EventBus } from '../../flow/events.js';
import { describeError } from '../../util/errors.js';
import { startOldGenerationPacer } from '../../util/old-generation-pacer.js';
import { CertificateAuthority } from '../ca/certificate-authority.js';
import { ClientAccess } from '../access/client-access.js';
import { ProxyAuth } from '../access/proxy-auth.js';
import { DnsNames } from '../dns/dns-names.js';
import { InterceptingProxy } from '../intercepting-proxy.js';
import { PassthroughPolicy } from '../passthrough.js';
import type { FromLoop, LoopConfig, ToLoop } from './loop-messages.js';
import { TapSender } from './remote-taps.js';
import { FlowHandOver } from './loop-backlog.js';

function send(message: FromLoop, sent?: () => void): void {
  if (!process.connected) return;
  try {
    process.send!(message, undefined, {}, () => sent?.());
  } catch {
    sent?.();
  }
}

// The primary handles signals for the run; the loop waits for its 'stop'.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => process.exit(0));

// As in cli.ts, a last resort: said once per kind (to the primary's log), and the loop stays up
// rather than drop its devices' connections.
const reported = new Set<string>();
process.on('uncaughtException', (error) => {
  const text = describeError(error);
  if (reported.has(text) || reported.size > 100) return;
  reported.add(text);
  send({ t: 'log', entry: { time: new Date().toISOString(), level: 'error', message: `internal error (the proxy keeps running): ${text}` } });
});

const flows = new FlowHandOver(send);

let proxy: InterceptingProxy | undefined;
let names: DnsNames | undefined;
let passthrough: PassthroughPolicy | undefined;
const taps = new TapSender(send);

async function start(config: LoopConfig): Promise<void> {
  const bus = new EventBus();
  bus.on('flow:end', (flow) => flows.handOver(flow));
  // Its own SOCKS5 UDP answers at once (the primary also sends them back, with every other loop's).
  if (config.dnsNames) bus.on('flow:end', (flow) => names?.learnFrom(flow));
  bus.on('tls:failed', (failure) => send({ t: 'tls-failed', failure }));
  bus.on('client:refused', (refusal) => send({ t: 'refused', refusal }));
  bus.on('log', (entry) => send({ t: 'log', entry }));
  passthrough = new PassthroughPolicy(config.passthroughPatterns);
  for (const entry of config.learned) passthrough.adopt(entry);
  passthrough.onLearned = (entry) => send({ t: 'learned', entry });
  names = config.dnsNames ? new DnsNames() : undefined;
  const dnsNames = names;
  const ca = CertificateAuthority.loadOrCreate(config.caDir);
  proxy = new InterceptingProxy({
    listenHost: config.listenHost, listenPort: config.listenPort, ca, events: bus,
    bodyLimitBytes: config.bodyLimitBytes, upstreamCaPems: config.upstreamCaPems, insecureUpstream: config.insecureUpstream,
    clientCertificates: new Map(config.clientCertificates), ...(config.upstreamTlsMin ? { upstreamTlsMin: config.upstreamTlsMin } : {}),
    passthrough, access: new ClientAccess(config.allowClient), ...(config.proxyAuth !== undefined ? { auth: new ProxyAuth(config.proxyAuth) } : {}),
    ...(config.keylog ? { keylog: (line: Buffer) => send({ t: 'keylog', line }) } : {}),
    ...(config.transparent ? { transparent: config.transparent } : {}),
    ...(dnsNames ? { nameOf: (address: string, atMs: number) => dnsNames.nameOf(address, atMs) } : {}),
    ...(config.opaque ? { opaqueObserver: taps.tunnelObserver() } : {}),
    ...(config.deviceTls ? { deviceTlsObserver: taps.deviceTlsObserver() } : {}),
    leafIssued: (shape, leaf) => send({ t: 'leaf', shape, leaf }),
  });
  try {
    await proxy.start();
  } catch (error) {
    const { code, listener } = error as { code?: string; listener?: string };
    send({ t: 'start-failed', message: describeError(error), ...(code ? { code } : {}), ...(listener ? { listener } : {}) }, () => process.exit(1));
    return;
  }
  send({ t: 'listening', port: proxy.port, transparentPort: proxy.transparentPort });
  // Each loop is a process with a heap of its own, started with the same old-generation floor.
  startOldGenerationPacer();
}

async function stop(): Promise<void> {
  await proxy?.stop();
  // After every flow (the channel keeps order): the primary closes the files once each loop said this.
  send({ t: 'stopped', leavesIssued: proxy?.leafStats.issued ?? 0, tapBytesDropped: taps.dropped, flowsCut: flows.cut }, () => process.disconnect());
}

process.on('message', (message: ToLoop) => {
  switch (message.t) {
    case 'start': void start(message.config); break;
    case 'leaf':
      try {
        proxy?.adoptLeaf(message.shape, message.leaf);
      } catch (error) {
        send({ t: 'log', entry: { time: new Date().toISOString(), level: 'warn', message: `a leaf for ${message.shape.names[0] ?? '(no name)'} from another proxy loop was not usable: ${describeError(error)}` } });
      }
      break;
    case 'learned': passthrough?.adopt(message.entry); break;
    case 'dns': names?.learn(message.name, message.answers, message.atMs); break;
    case 'tap-off': taps.off(message.key); break;
    case 'stop': void stop(); break;
  }
});
send({ t: 'ready' });
