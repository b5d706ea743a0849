// One simulated phone of the lab day: its own loopback address and app User-Agent, keep-alive
// connections through the capture, and a phone's mix at a phone's pace — small JSON API calls
// (most), a photo upload now and then, one WebSocket that stays open and speaks every few seconds,
// and a pinned app that refuses our CA (the capture learns to pass its host through, so later
// attempts succeed). Every action is made twice at the same moment, direct to the origin and
// through the capture, in alternating order, so the added latency of each pair is measured under
// the same conditions.

import https from 'node:https';
import tls from 'node:tls';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { DeviceAgent, dial, type Route } from './lab-day-dial.js';

export type ActionKind = 'api' | 'upload' | 'websocket' | 'pinned';

/** One action made both ways: milliseconds direct and through the capture. */
export interface LatencyPair {
  readonly kind: ActionKind;
  readonly seconds: number;
  readonly directMs: number;
  readonly throughMs: number;
}

/** Completed through the capture, by the flow kind the capture should record for it. */
export interface DeviceTally {
  http: number;
  websocket: number;
  tunnel: number;
  'tls-failed': number;
  errors: number;
}

export interface DeviceSetup {
  readonly index: number;
  readonly address: string;
  readonly route: Route;
  /** The capture's CA (through) and the origin's (direct, and the pinned app's only trust). */
  readonly captureCa: string;
  readonly originCa: string;
  readonly originPort: number;
  readonly photo: Buffer;
  /** Mean seconds between actions of each kind (the pace; the CI run shortens them). */
  readonly gaps: Record<ActionKind, number>;
  readonly started: number;
  readonly onPair: (pair: LatencyPair) => void;
}

/** A small deterministic generator (mulberry32): each device's jitter is the same run to run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export class LabDevice {
  readonly tally: DeviceTally = { http: 0, websocket: 0, tunnel: 0, 'tls-failed': 0, errors: 0 };
  readonly #setup: DeviceSetup;
  readonly #userAgent: string;
  readonly #through: DeviceAgent;
  readonly #direct: DeviceAgent;
  readonly #random: () => number;
  #sockets: { through: WebSocket; direct: WebSocket } | undefined;
  #stopped = false;
  /** The pauses under way (one per loop at most), so stop() can cut them short. */
  readonly #wake = new Set<() => void>();
  #lastError = '';

  constructor(setup: DeviceSetup) {
    this.#setup = setup;
    const nn = String(setup.index + 1).padStart(2, '0');
    this.#userAgent = `com.lab.device${nn}/1.0 (Linux; U; Android 9; Lab Phone ${nn} Build/PQ3A.190801.002)`;
    this.#through = new DeviceAgent(setup.route, setup.address, setup.captureCa, { maxSockets: 2 });
    this.#direct = new DeviceAgent({ via: 'direct' }, setup.address, setup.originCa, { maxSockets: 2 });
    this.#random = seededRandom(0x1ab0 + setup.index);
  }

  get lastError(): string {
    return this.#lastError;
  }

  /** Runs until stop(): opens its WebSockets, then one paced loop per kind of action. */
  async run(): Promise<void> {
    this.#sockets = { through: await this.#openSocket(this.#through), direct: await this.#openSocket(this.#direct) };
    await Promise.all((['api', 'upload', 'websocket', 'pinned'] as const).map((kind) => this.#loop(kind)));
  }

  /** Ends the loops: a pause ends now, an action under way finishes; run() then returns. */
  stop(): void {
    this.#stopped = true;
    for (const wake of [...this.#wake]) wake();
  }

  /** After run() has returned: closes both WebSockets (the through one is a flow when it closes) and every kept-alive connection. */
  async close(): Promise<void> {
    if (this.#sockets) {
      const { through, direct } = this.#sockets;
      const closed = [through, direct].map((ws) => (ws.readyState === WebSocket.CLOSED ? Promise.resolve() : once(ws, 'close').then(() => undefined)));
      through.close();
      direct.close();
      await Promise.all(closed);
      if (through.readyState === WebSocket.CLOSED) this.tally.websocket++;
    }
    this.#through.destroy();
    this.#direct.destroy();
  }

  async #openSocket(agent: DeviceAgent): Promise<WebSocket> {
    const ws = new WebSocket(`wss://127.0.0.1:${this.#setup.originPort}/live`, { agent, headers: { 'user-agent': this.#userAgent } });
    await once(ws, 'open');
    ws.on('error', (err) => { this.#lastError = err.message; });
    return ws;
  }

  async #loop(kind: ActionKind): Promise<void> {
    // The pinned app starts at once (its first attempt is the refusal); the others after a first gap.
    let first = kind === 'pinned';
    while (!this.#stopped) {
      if (!first) await this.#pause(this.#setup.gaps[kind] * (0.5 + this.#random()));
      first = false;
      if (this.#stopped) break;
      try {
        await this.#pair(kind);
      } catch (err) {
        this.tally.errors++;
        this.#lastError = `${kind}: ${(err as Error).message}`;
      }
    }
  }

  /** The phone's pace between actions; stop() cuts it short. */
  async #pause(seconds: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, seconds * 1000);
      this.#wake.add(done);
    });
  }

  async #pair(kind: ActionKind): Promise<void> {
    const directFirst = this.#random() < 0.5;
    const at = (Date.now() - this.#setup.started) / 1000;
    // NaN where the action ended as designed but is no latency (the pinned app's refusal).
    const timed = async (through: boolean): Promise<number> => {
      const start = performance.now();
      return (await this.#act(kind, through)) ? performance.now() - start : NaN;
    };
    let directMs: number;
    let throughMs: number;
    if (directFirst) {
      directMs = await timed(false);
      throughMs = await timed(true);
    } else {
      throughMs = await timed(true);
      directMs = await timed(false);
    }
    if (Number.isFinite(throughMs) && Number.isFinite(directMs)) this.#setup.onPair({ kind, seconds: Math.round(at * 10) / 10, directMs, throughMs });
  }

  /** Does one action one way; false when it ended as designed but is no latency to pair. */
  async #act(kind: ActionKind, through: boolean): Promise<boolean> {
    switch (kind) {
      case 'api': {
        const post = this.#random() < 0.4;
        const body = post ? JSON.stringify({ device: this.#setup.index, event: 'screen_view', at: Date.now(), items: Array.from({ length: 8 }, (_, i) => ({ id: i, seen: true })) }) : undefined;
        await this.#request(through, post ? 'POST' : 'GET', post ? '/api/v1/events' : `/api/v1/feed?page=${Math.floor(this.#random() * 10)}`, body, 'application/json');
        return true;
      }
      case 'upload':
        await this.#request(through, 'POST', '/upload/photo.jpg', this.#setup.photo, 'image/jpeg');
        return true;
      case 'websocket': {
        const ws = through ? this.#sockets!.through : this.#sockets!.direct;
        if (ws.readyState !== WebSocket.OPEN) throw new Error(`the ${through ? 'through' : 'direct'} WebSocket is no longer open`);
        await new Promise<void>((resolve, reject) => {
          // Both listeners go once either fires: the socket lives all day, and its listeners must not pile up.
          const onMessage = (): void => { ws.off('close', onClose); resolve(); };
          const onClose = (): void => { ws.off('message', onMessage); reject(new Error('the WebSocket closed before its echo')); };
          ws.once('message', onMessage);
          ws.once('close', onClose);
          ws.send(JSON.stringify({ type: 'presence', device: this.#setup.index, at: Date.now() }));
        });
        // A WebSocket is one flow however many messages it carries: counted once, when it closes.
        return true;
      }
      case 'pinned':
        return this.#pinned(through);
    }
  }

  async #request(through: boolean, method: string, path: string, body: string | Buffer | undefined, type: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: this.#setup.originPort, method, path, agent: through ? this.#through : this.#direct, headers: { 'user-agent': this.#userAgent, ...(body ? { 'content-type': type } : {}) } }, (res) => {
        res.resume();
        res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${method} ${path} answered ${res.statusCode}`))));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.end(body);
    });
    if (through) this.tally.http++;
  }

  /**
   * A pinned app: it trusts only the origin's CA. Through the capture its first handshake meets our
   * certificate and it refuses (the capture records it and learns the name); later ones pass
   * through untouched and succeed. A fresh connection each time, as such apps' own stacks do.
   */
  async #pinned(through: boolean): Promise<boolean> {
    const servername = `pinned-${String(this.#setup.index + 1).padStart(2, '0')}.lab.test`;
    const socket = await dial(through ? this.#setup.route : { via: 'direct' }, this.#setup.address, '127.0.0.1', this.#setup.originPort);
    // The pin is the CA alone: the origin's certificate names 127.0.0.1, not this app's host.
    const secure = tls.connect({ socket, servername, ca: this.#setup.originCa, checkServerIdentity: () => undefined });
    // (events.once would reject on the refusal's 'error'; the handshake's end is what matters.)
    const outcome = await new Promise<'connected' | 'refused'>((resolve) => {
      secure.on('error', () => undefined);
      secure.once('secureConnect', () => resolve('connected'));
      secure.once('close', () => resolve('refused'));
    });
    if (outcome === 'refused') {
      if (!through) throw new Error('the pinned app could not reach the origin direct');
      this.tally['tls-failed']++;
      return false;
    }
    secure.end(`GET /pinned HTTP/1.1\r\nHost: ${servername}\r\nUser-Agent: ${this.#userAgent}\r\nConnection: close\r\n\r\n`);
    secure.resume();
    await once(secure, 'close');
    if (through) this.tally.tunnel++;
    return true;
  }
}
