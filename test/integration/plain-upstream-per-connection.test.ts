// Plain HTTP upstreams follow the device's connections (connection-agent.ts with `plain`, and
// proxy-connection-upstreams.ts): through the HTTP proxy (absolute-form) and through SOCKS5, each
// device connection gets server connections of its own, kept for its next request, never shared
// with another device connection, and closed when the device's closes. The origin counts its
// connections and says which one each request came on.

import net from 'node:net';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { socks5Connect, startLab, startOrigin, until, within, type Lab } from '../helpers/lab.js';

const HOST = 'api.example.test';

interface CountingOrigin {
  readonly port: number;
  /** Server-side connections in the order they were made. */
  readonly connections: net.Socket[];
  /** Open connections now. */
  open(): number;
}

async function countingOrigin(t: Test): Promise<CountingOrigin> {
  const connections: net.Socket[] = [];
  const origin = await startOrigin({
    tls: false,
    handler: (req, res) => {
      req.resume();
      res.end(`${req.url} on connection ${connections.indexOf(req.socket)}`);
    },
  });
  origin.server.on('connection', (socket: net.Socket) => connections.push(socket));
  t.teardown(() => origin.close());
  return { port: origin.port, connections, open: () => connections.filter((s) => !s.destroyed).length };
}

/** A device connection that sends requests one at a time and reads each answer whole. */
class Device {
  readonly #socket: net.Socket;
  #text = '';
  #waiting: (() => void) | undefined;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#text += chunk.toString('latin1');
      this.#waiting?.();
    });
    // socks5Connect hands its socket over paused.
    socket.resume();
  }

  static async toProxy(lab: Lab): Promise<Device> {
    const socket = net.connect(lab.port, '127.0.0.1');
    await once(socket, 'connect');
    return new Device(socket);
  }

  /** Sends one GET (absolute-form when `absolute`) and returns the body of its answer. */
  async get(target: string, path: string, absolute: boolean): Promise<string> {
    const start = this.#text.length;
    this.#socket.write(`GET ${absolute ? `http://${target}` : ''}${path} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    const answer = (): RegExpExecArray | null => /Content-Length: (\d+)\r\n(?:.*\r\n)*?\r\n/.exec(this.#text.slice(start));
    const whole = (): boolean => {
      const head = answer();
      return !!head && this.#text.length - start - head.index - head[0].length >= Number(head[1]);
    };
    while (!whole()) await within(new Promise<void>((resolve) => { this.#waiting = resolve; }), 10_000, `the answer to ${path}`);
    const head = answer()!;
    return this.#text.slice(start + head.index + head[0].length);
  }

  async close(): Promise<void> {
    this.#socket.end();
    await once(this.#socket, 'close');
  }
}

t.test('absolute-form requests: one upstream per device connection and server, closed with it', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const first = await countingOrigin(t);
  const second = await countingOrigin(t);
  const a = await Device.toProxy(lab);
  const b = await Device.toProxy(lab);
  t.equal(await a.get(`${HOST}:${first.port}`, '/a1', true), '/a1 on connection 0');
  t.equal(await b.get(`${HOST}:${first.port}`, '/b1', true), '/b1 on connection 1', "another device connection's request comes on a connection of its own");
  t.equal(await a.get(`${HOST}:${first.port}`, '/a2', true), '/a2 on connection 0', 'a device connection keeps its server connection');
  t.equal(await a.get(`${HOST}:${second.port}`, '/a3', true), '/a3 on connection 0', 'another server gets its own connection');
  t.equal(await a.get(`${HOST}:${first.port}`, '/a4', true), '/a4 on connection 0', 'and the first one is still kept');
  t.equal(first.connections.length, 2);
  await a.close();
  await until(() => first.open() === 1 && second.open() === 0, 5000, "the device connection's server connections to close with it");
  t.equal(await b.get(`${HOST}:${first.port}`, '/b2', true), '/b2 on connection 1', "the other device's connection is untouched");
  await b.close();
  await until(() => first.open() === 0, 5000, 'the last server connection to close');
});

t.test('SOCKS5 with plain HTTP: each device connection its own server connection', async (t) => {
  const lab = await startLab();
  t.teardown(() => lab.close());
  const origin = await countingOrigin(t);
  const devices: Device[] = [];
  for (let i = 0; i < 2; i++) {
    const { socket, reply } = await socks5Connect(lab.port, { host: HOST, port: origin.port });
    t.equal(reply, 0, 'SOCKS5 granted');
    devices.push(new Device(socket));
  }
  const [a, b] = devices as [Device, Device];
  t.equal(await a.get(`${HOST}:${origin.port}`, '/a1', false), '/a1 on connection 0');
  t.equal(await b.get(`${HOST}:${origin.port}`, '/b1', false), '/b1 on connection 1');
  t.equal(await a.get(`${HOST}:${origin.port}`, '/a2', false), '/a2 on connection 0');
  await a.close();
  await until(() => origin.open() === 1, 5000, "device a's server connection to close with it");
  await b.close();
  await until(() => origin.open() === 0, 5000, "device b's server connection to close with it");
});
