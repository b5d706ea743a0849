// --threads N (N > 1): N proxy event loops in N processes (Node's cluster), accepting on the same
// listening port(s). Node 20 has no SO_REUSEPORT; the cluster's round-robin (the default on Linux)
// accepts in this process and hands each connection to the next loop, so connections, not
// requests, are spread: a device's keep-alive connection stays on one loop.
//
// This process, the primary, keeps everything that must be one: the run folder and its writers,
// inspection, the console or terminal UI, the fleet link, DNS. Each loop runs only the
// InterceptingProxy and hands every event to the primary, which gives the flow its run-wide id
// (flow-renumbering.ts) and emits it on the run's one bus, so every sink works unchanged and the
// screen and the fleet see one capture. What one loop learns is told to the others: the leaf it
// issued for a new host (so a host costs one signature, not one per loop) and a host that pinned.
//
// A loop that dies is said in one line and replaced; its open connections are lost, the run goes
// on. Stopping tells every loop to drain its open flows and waits until each has said 'stopped'
// after its last flow, so the files close whole.

import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { EventBus } from '../../flow/events.js';
import { limits } from '../../limits.js';
import { decodeFlow, flowCodecVersion } from '../../model/flow-codec.js';
import type { InterceptingProxy, InterceptingProxyOptions } from '../intercepting-proxy.js';
import type { Sink, SinkStats } from '../../sinks/sink.js';
import { describeError } from '../../util/errors.js';
import { FlowRenumbering } from './flow-renumbering.js';
import type { FromLoop, LoopConfig, ToLoop } from './loop-messages.js';
import { TapReceiver } from './remote-taps.js';
import { flowBacklogBytes } from './loop-backlog.js';
import { dnsLesson } from '../dns/dns-names.js';

/** What a capture session needs of its proxy, whether one loop in-process or several. */
export type ProxyEngine = Pick<InterceptingProxy, 'start' | 'stop' | 'port' | 'transparentPort' | 'leafStats'>;

/** Loops replaced within a minute, at most: a loop that keeps dying is not restarted forever. */
const maxReplacementsPerMinute = 5;

// The worker's module, beside this one (.ts when run from source by the tests, .js when built).
const workerModule = fileURLToPath(new URL(`./proxy-loop-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

interface Loop {
  readonly index: number;
  readonly worker: Worker;
  readonly ids: FlowRenumbering;
  readonly taps: TapReceiver;
  stopped: boolean;
}

export class ProxyLoops implements ProxyEngine {
  readonly #options: InterceptingProxyOptions;
  readonly #count: number;
  readonly #proxyAuth: string | undefined;
  readonly #events: EventBus;
  readonly #loops = new Map<Worker, Loop>();
  /** Flows each loop (by index, 1-based) handed over, replaced loops included. */
  readonly #flowsByLoop: number[];
  #replaced = 0; // loops that took a dead one's place and listen
  #replacedAt: number[] = [];
  #leavesIssued = 0;
  #tapBytesDropped = 0;
  #flowsCut = 0;
  #port = 0;
  #transparentPort = 0;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  /** Resolved when the loop of this worker has exited. */
  readonly #ended = new Map<Worker, Promise<void>>();

  constructor(options: InterceptingProxyOptions, count: number, proxyAuth?: string) {
    if (options.lookup) throw new Error('proxy loops in other processes cannot use a lookup function: run one loop');
    this.#options = options;
    this.#count = count;
    this.#proxyAuth = proxyAuth;
    this.#events = options.events;
    this.#flowsByLoop = new Array<number>(count).fill(0);
    if (options.nameOf) {
      // Every DNS answer of the run (this process's listeners, a loop's SOCKS5 UDP) reaches every
      // loop: the connection that follows it may land on any of them.
      this.#events.on('flow:end', (flow) => {
        const lesson = dnsLesson(flow);
        if (lesson) this.#broadcast({ t: 'dns', ...lesson });
      });
    }
  }

  get port(): number {
    return this.#port;
  }

  get transparentPort(): number {
    return this.#transparentPort;
  }

  /** Leaves signed by the loops (each new host once, whichever loop met it first, unless two met it at once). */
  get leafStats(): { issued: number; cached: number } {
    return { issued: this.#leavesIssued, cached: Math.min(this.#leavesIssued, limits.leafCacheEntries) };
  }

  async start(): Promise<{ host: string; port: number }> {
    // The loops share the console: quiet about deprecations when this process is (cli.ts says why).
    const execArgv = process.noDeprecation ? [...process.execArgv, '--no-deprecation'] : process.execArgv;
    cluster.setupPrimary({ exec: workerModule, args: [], execArgv, serialization: 'advanced' });
    // Every loop listens on the same address and port; with port 0 the cluster gives them all the same one.
    const started = await Promise.allSettled(Array.from({ length: this.#count }, (_, i) => this.#startLoop(i + 1)));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) {
      await this.stop();
      throw (failed as PromiseRejectedResult).reason;
    }
    return { host: this.#options.listenHost, port: this.#port };
  }

  #config(index: number): LoopConfig {
    const o = this.#options;
    return {
      // The port as configured, 0 included, never the one it became: the cluster shares a socket
      // per (address, port as asked), so a loop asking for the bound port would try to bind it again.
      loop: index, listenHost: o.listenHost, listenPort: o.listenPort,
      ...(o.transparent ? { transparent: { host: o.transparent.host, port: o.transparent.port } } : {}),
      caDir: o.ca.dir, bodyLimitBytes: o.bodyLimitBytes, upstreamCaPems: o.upstreamCaPems, insecureUpstream: o.insecureUpstream,
      ...(o.upstreamTlsMin ? { upstreamTlsMin: o.upstreamTlsMin } : {}),
      clientCertificates: [...(o.clientCertificates ?? new Map()).entries()],
      passthroughPatterns: o.passthrough.patterns, learned: o.passthrough.learned(), allowClient: o.access.ranges,
      ...(this.#proxyAuth !== undefined ? { proxyAuth: this.#proxyAuth } : {}),
      keylog: o.keylog !== undefined, opaque: o.opaqueObserver !== undefined, deviceTls: o.deviceTlsObserver !== undefined, dnsNames: o.nameOf !== undefined,
    };
  }

  /** Forks loop `index` and resolves once it listens (rejects with the listener's error when it cannot). */
  #startLoop(index: number): Promise<void> {
    const worker = cluster.fork({ PHONEHOME_PROXY_LOOP: String(index) });
    const loop: Loop = {
      index, worker, ids: new FlowRenumbering(index), stopped: false,
      taps: new TapReceiver({ ...(this.#options.opaqueObserver ? { opaque: this.#options.opaqueObserver } : {}), ...(this.#options.deviceTlsObserver ? { 'device-tls': this.#options.deviceTlsObserver } : {}) }),
    };
    this.#loops.set(worker, loop);
    let resolveEnded!: () => void;
    this.#ended.set(worker, new Promise<void>((resolve) => { resolveEnded = resolve; }));
    return new Promise<void>((resolve, reject) => {
      let listening = false;
      worker.on('message', (message: FromLoop) => {
        if (message.t === 'ready') {
          worker.send({ t: 'start', config: this.#config(index) } satisfies ToLoop);
        } else if (message.t === 'listening') {
          listening = true;
          if (this.#port === 0) this.#port = message.port;
          if (this.#transparentPort === 0) this.#transparentPort = message.transparentPort;
          // The cluster shares one socket per address and port: a loop elsewhere would split the devices.
          if (message.port !== this.#port || message.transparentPort !== this.#transparentPort) {
            loop.stopped = true; // not replaced: the start fails
            worker.process.kill('SIGKILL');
            reject(new Error(`proxy loop ${index} listened on port ${message.port}, not the others' ${this.#port}`));
            return;
          }
          resolve();
        } else if (message.t === 'start-failed') {
          reject(Object.assign(new Error(message.message), { ...(message.code ? { code: message.code } : {}), ...(message.listener ? { listener: message.listener } : {}) }));
        } else if (message.t === 'stopped') {
          loop.stopped = true;
          this.#tapBytesDropped += message.tapBytesDropped;
          this.#flowsCut += message.flowsCut;
          // Ended once its process has: it disconnects right after this, and a capture that exited
          // before its loops would leave them running for a moment after it.
        } else {
          this.#receive(loop, message);
        }
      });
      worker.on('error', () => undefined); // a channel error ends in 'exit', said there
      worker.once('exit', (code, signal) => {
        this.#loops.delete(worker);
        this.#ended.delete(worker);
        loop.taps.closeAll();
        resolveEnded();
        if (!listening) {
          reject(new Error(`proxy loop ${index} ended before it listened (${signal ?? `exit ${code}`})`));
          return;
        }
        if (this.#stopping || loop.stopped) return;
        this.#replace(loop, signal ?? `exit code ${code}`);
      });
    });
  }

  #replace(loop: Loop, how: string): void {
    const now = Date.now();
    this.#replacedAt = this.#replacedAt.filter((at) => now - at < 60_000);
    if (this.#replacedAt.length >= maxReplacementsPerMinute) {
      this.#events.log('error', `proxy loop ${loop.index} (pid ${loop.worker.process.pid}) ended (${how}); not replaced (${maxReplacementsPerMinute} loops were replaced within a minute), ${this.#loops.size} loop(s) go on`);
      return;
    }
    this.#replacedAt.push(now);
    this.#events.log('warn', `proxy loop ${loop.index} (pid ${loop.worker.process.pid}) ended (${how}); its open connections are lost; a new loop takes its place`);
    // Counted once the new loop listens, on the same port as the others.
    this.#startLoop(loop.index).then(() => {
      this.#replaced++;
      this.#events.log('info', `proxy loop ${loop.index} listens again (a new process)`);
    }, (error: unknown) => this.#events.log('error', `proxy loop ${loop.index} could not be replaced: ${describeError(error)}`));
  }

  #receive(loop: Loop, message: FromLoop): void {
    const bus = this.#events;
    switch (message.t) {
      case 'flow': {
        let flow;
        try {
          flow = loop.ids.flow(decodeFlow({ v: flowCodecVersion, flow: message.flow }));
        } catch (error) {
          bus.log('error', `proxy loop ${loop.index}: a flow could not be read: ${describeError(error)}`);
          return;
        }
        this.#flowsByLoop[loop.index - 1]!++;
        bus.emit('flow:end', flow);
        if (message.tunnel) bus.emit('tunnel:end', flow);
        break;
      }
      case 'tls-failed': bus.emit('tls:failed', loop.ids.tlsFailure(message.failure)); break;
      case 'refused': bus.emit('client:refused', message.refusal); break;
      case 'log': if (bus.listenerCount('log') > 0) bus.emit('log', { ...message.entry, message: loop.ids.message(message.entry.message) }); break;
      case 'leaf':
        this.#leavesIssued++;
        this.#broadcast({ t: 'leaf', shape: message.shape, leaf: message.leaf }, loop.worker);
        break;
      case 'learned':
        // The run's own policy too: summary.json lists the learned hosts from it.
        this.#options.passthrough.adopt(message.entry);
        this.#broadcast({ t: 'learned', entry: message.entry }, loop.worker);
        break;
      case 'keylog': this.#options.keylog?.(Buffer.from(message.line)); break;
      case 'tap-open':
        if (!loop.taps.open(message.key, message.kind, { ...message.connection, id: loop.ids.idOf(message.connection.id) })) this.#tell(loop.worker, { t: 'tap-off', key: message.key });
        break;
      case 'tap': {
        const op = message.op === 'data' ? { op: message.op, fromClient: message.fromClient, chunk: Buffer.from(message.chunk.buffer, message.chunk.byteOffset, message.chunk.byteLength) }
          : message.op === 'keylog' ? { op: message.op, line: Buffer.from(message.line.buffer, message.line.byteOffset, message.line.byteLength) } : message;
        if (!loop.taps.apply(message.key, op) && message.op !== 'close') this.#tell(loop.worker, { t: 'tap-off', key: message.key });
        break;
      }
    }
  }

  #tell(worker: Worker, message: ToLoop): void {
    if (!worker.isConnected()) return;
    try {
      worker.send(message);
    } catch {
      // a loop that is going away: its 'exit' says so
    }
  }

  #broadcast(message: ToLoop, except?: Worker): void {
    for (const worker of this.#loops.keys()) if (worker !== except) this.#tell(worker, message);
  }

  /** Stops accepting, lets every loop drain its open flows, and resolves once each loop, its last flow handed over, has exited. */
  stop(): Promise<void> {
    this.#stopping = true;
    this.#stopped ??= (async () => {
      const ended = [...this.#ended.values()];
      this.#broadcast({ t: 'stop' });
      // A loop's own drain is bounded (stopGraceMs); this bounds a loop that hangs besides.
      const bound = setTimeout(() => {
        for (const worker of this.#loops.keys()) worker.process.kill('SIGKILL');
      }, limits.stopGraceMs + 5_000);
      await Promise.all(ended);
      clearTimeout(bound);
    })();
    return this.#stopped;
  }

  /** summary.json's notes: how many loops ran, how many flows each handed over, and what went wrong. */
  sink(): Sink {
    return {
      name: 'threads', closes: 'files', attach: () => undefined,
      close: async (): Promise<SinkStats> => ({
        written: 0, skipped: 0,
        notes: [
          `--threads ${this.#count}: the proxy loops handed over ${this.#flowsByLoop.join(', ')} flows (loop 1 to ${this.#count}); ${this.#replaced} loop(s) replaced; ${this.#leavesIssued} leaf certificate(s) issued`,
          ...(this.#flowsCut > 0 ? [`${this.#flowsCut} flow(s) were handed over without their bodies (inspected:partial): the proxy loops ran ahead of this process by more than ${flowBacklogBytes / 1048576} MiB`] : []),
          ...(this.#tapBytesDropped > 0 ? [`${this.#tapBytesDropped} byte(s) of tapped traffic were not recorded: the proxy loops' channel to the files was backed up`] : []),
        ],
      }),
    };
  }
}
