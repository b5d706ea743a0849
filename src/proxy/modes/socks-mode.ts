// The SOCKS mode: SOCKS5 (and SOCKS4/4a) on the same port as the HTTP proxy, told apart by the
// first byte. This is how every app of a phone gets in without root: a VPN app (PCAPdroid,
// tun2socks) forwards all TCP to phonehome over SOCKS5. Like every mode, it only learns where a
// connection is going, checks who may ask, and hands the stream to the shared layers.
// CONNECT, and SOCKS5's UDP ASSOCIATE (DNS, and other UDP but QUIC: socks-udp-association.ts);
// BIND (either version) is answered "command not supported" and recorded.

import type net from 'node:net';
import type { Endpoint } from '../../model/flow.js';
import { limits } from '../../limits.js';
import type { ProxyAuth } from '../access/proxy-auth.js';
import { parseTarget, type Target } from '../access/target.js';
import { newConnectionContext } from '../context.js';
import type { FlowTracker } from '../flow-tracker.js';
import { clientOf } from '../layers/http1-layer.js';
import type { LayerStack } from '../layers/layer-stack.js';
import { refuse } from '../replies.js';
import { normalizeClientIp } from '../access/client-access.js';
import { SocksUdpAssociation } from './socks-udp-association.js';
import {
  parseSocks4Request, parseSocks5Greeting, parseSocks5Request, parseUserPass, socks4Response, socks5Method, socks5Reply, socks5Response,
  SOCKS5, type SocksAddress,
} from './socks-protocol.js';

export interface SocksModeOptions {
  readonly tracker: FlowTracker;
  readonly auth?: ProxyAuth;
  readonly layers: LayerStack;
  readonly isSelf: (target: Target) => boolean;
}

/** Bytes a SOCKS handshake may take before it is refused (the largest legal one is under 600). */
const MAX_HANDSHAKE_BYTES = 1024;
const COMMAND_CONNECT = 0x01;
const COMMAND_UDP_ASSOCIATE = 0x03;
const COMMAND_NAMES: Record<number, string> = { 0x02: 'BIND', 0x03: 'UDP ASSOCIATE' };

type Stage = 'greeting' | 'auth' | 'request' | 'socks4' | 'done';

export class SocksMode {
  readonly #options: SocksModeOptions;

  constructor(options: SocksModeOptions) {
    this.#options = options;
  }

  /** A connection whose first byte is 4 or 5 (already unshifted back). */
  handle(socket: net.Socket): void {
    const client = clientOf(socket);
    let stage: Stage = 'greeting';
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => fail(`the SOCKS handshake did not finish within ${limits.headersTimeoutMs} ms`, 'socks:timeout'), limits.headersTimeoutMs);
    const stop = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    const fail = (reason: string, tag: string, reply?: Buffer, target: { host: string; port: number } = { host: '', port: 0 }): void => {
      stop();
      stage = 'done';
      this.#options.tracker.rejected(client, 'socks5', target, reason, [tag]);
      refuse(socket, reply);
    };
    const onClose = (): void => stop();
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length > MAX_HANDSHAKE_BYTES) {
        fail('a SOCKS handshake over 1 KiB', 'socks:malformed');
        return;
      }
      for (;;) {
        if (stage === 'greeting') {
          if (buffered[0] !== SOCKS5) {
            stage = 'socks4';
            continue;
          }
          const greeting = parseSocks5Greeting(buffered);
          if (greeting.kind === 'partial') return;
          if (greeting.kind === 'invalid') return fail(`malformed SOCKS5 greeting: ${greeting.reason}`, 'socks:malformed');
          buffered = buffered.subarray(greeting.consumed);
          const method = this.#chooseMethod(greeting.methods);
          socket.write(Buffer.from([SOCKS5, method]));
          if (method === socks5Method.noneAcceptable) {
            return fail(this.#options.auth ? 'SOCKS5 client offered no username/password, and --proxy-auth requires it' : 'SOCKS5 client offered no method we speak', 'socks:no-acceptable-method');
          }
          stage = method === socks5Method.userPass ? 'auth' : 'request';
        } else if (stage === 'auth') {
          const credentials = parseUserPass(buffered);
          if (credentials.kind === 'partial') return;
          if (credentials.kind === 'invalid') return fail(`malformed SOCKS5 authentication: ${credentials.reason}`, 'socks:malformed');
          buffered = buffered.subarray(credentials.consumed);
          const auth = this.#options.auth;
          // The password itself is never recorded, only that it did not match.
          if (auth && !auth.acceptsCredentials(credentials.user, credentials.pass)) return fail('SOCKS5 proxy authentication failed', 'socks:bad-credentials', Buffer.from([0x01, 0x01]));
          socket.write(Buffer.from([0x01, 0x00]));
          stage = 'request';
        } else if (stage === 'request') {
          const request = parseSocks5Request(buffered);
          if (request.kind === 'partial') return;
          if (request.kind === 'invalid') return fail(`malformed SOCKS5 request: ${request.reason}`, 'socks:malformed', socks5Response(request.reply ?? socks5Reply.generalFailure));
          buffered = buffered.subarray(request.consumed);
          stop();
          stage = 'done';
          this.#connect5(socket, client, request.command, request.address, request.port, buffered, fail);
          return;
        } else if (stage === 'socks4') {
          const request = parseSocks4Request(buffered);
          if (request.kind === 'partial') return;
          if (request.kind === 'invalid') return fail(`malformed SOCKS4 request: ${request.reason}`, 'socks:malformed', socks4Response(false));
          buffered = buffered.subarray(request.consumed);
          stop();
          stage = 'done';
          this.#connect4(socket, client, request.command, request.address, request.port, buffered, fail);
          return;
        } else {
          return;
        }
      }
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  }

  #chooseMethod(methods: readonly number[]): number {
    if (this.#options.auth) return methods.includes(socks5Method.userPass) ? socks5Method.userPass : socks5Method.noneAcceptable;
    if (methods.includes(socks5Method.noAuth)) return socks5Method.noAuth;
    // A client that only knows username/password gets it, and any credentials do.
    return methods.includes(socks5Method.userPass) ? socks5Method.userPass : socks5Method.noneAcceptable;
  }

  #connect5(socket: net.Socket, client: Endpoint, command: number, address: SocksAddress, port: number, head: Buffer, fail: (reason: string, tag: string, reply?: Buffer, target?: { host: string; port: number }) => void): void {
    const shown = { host: address.host, port };
    if (command === COMMAND_UDP_ASSOCIATE) {
      this.#associate(socket, client, fail);
      return;
    }
    if (command !== COMMAND_CONNECT) {
      fail(`SOCKS5 ${COMMAND_NAMES[command] ?? `command ${command}`} is not supported (CONNECT and UDP ASSOCIATE only)`, 'socks:command-not-supported', socks5Response(socks5Reply.commandNotSupported), shown);
      return;
    }
    const target = this.#validTarget(address, port);
    if (!target.ok) {
      fail(`bad SOCKS5 target: ${target.reason}`, 'client:bad-target', socks5Response(socks5Reply.generalFailure), { host: '', port });
      return;
    }
    if (this.#options.isSelf(target.target)) {
      fail('SOCKS5 CONNECT to the proxy itself', 'client:loop', socks5Response(socks5Reply.notAllowed), target.target);
      return;
    }
    this.#start(socket, client, target.target, head, {
      established: () => socket.write(socks5Response(socks5Reply.succeeded)),
      failed: (reason) => socket.write(socks5Response(replyForFailure(reason))),
    });
  }

  /**
   * UDP ASSOCIATE: a relay socket beside this connection, named in the reply, that lives as long as
   * the connection does (RFC 1928 §7). The address and port the client says it will send from are
   * not needed: only its connection's address may send, and its first datagram fixes the port.
   */
  #associate(socket: net.Socket, client: Endpoint, fail: (reason: string, tag: string, reply?: Buffer) => void): void {
    const tracker = this.#options.tracker;
    SocksUdpAssociation.open({
      client, localAddress: normalizeClientIp(socket.localAddress), isSelf: this.#options.isSelf,
      pending: () => tracker.pending(),
      record: (flow) => tracker.record(flow),
      rejected: (target, reason, tags) => tracker.rejected(client, 'socks5', target, reason, tags),
    }).then((association) => {
      if (socket.destroyed) {
        association.close();
        return;
      }
      socket.write(socks5Response(socks5Reply.succeeded, association.bound));
      // The connection carries nothing more; its end ends the association.
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.once('close', () => association.close());
      socket.resume();
    }, (error: unknown) => fail(`SOCKS5 UDP ASSOCIATE: no UDP socket beside ${socket.localAddress}: ${(error as Error).message}`, 'socks:udp-failed', socks5Response(socks5Reply.generalFailure)));
  }

  #connect4(socket: net.Socket, client: Endpoint, command: number, address: SocksAddress, port: number, head: Buffer, fail: (reason: string, tag: string, reply?: Buffer, target?: { host: string; port: number }) => void): void {
    const shown = { host: address.host, port };
    if (this.#options.auth) {
      fail('SOCKS4 has no passwords, and --proxy-auth requires them: use SOCKS5', 'socks:auth-required', socks4Response(false), shown);
      return;
    }
    if (command !== COMMAND_CONNECT) {
      fail(`SOCKS4 ${COMMAND_NAMES[command] ?? `command ${command}`} is not supported (CONNECT only)`, 'socks:command-not-supported', socks4Response(false), shown);
      return;
    }
    const target = this.#validTarget(address, port);
    if (!target.ok || this.#options.isSelf(target.target)) {
      fail(target.ok ? 'SOCKS4 CONNECT to the proxy itself' : `bad SOCKS4 target: ${target.reason}`, target.ok ? 'client:loop' : 'client:bad-target', socks4Response(false), target.ok ? target.target : { host: '', port });
      return;
    }
    this.#start(socket, client, target.target, head, {
      established: () => socket.write(socks4Response(true)),
      failed: () => socket.write(socks4Response(false)),
    });
  }

  /** The same validation as a CONNECT target: nothing unchecked reaches a socket, a certificate or a path. */
  #validTarget(address: SocksAddress, port: number): ReturnType<typeof parseTarget> {
    return parseTarget(`${address.type === 'ipv6' ? `[${address.host}]` : address.host}:${port}`);
  }

  /** Hands over to the layers, which answer through `reply` once the server has accepted a connection, or failed to (first-connection.ts). */
  #start(socket: net.Socket, client: Endpoint, target: Target, head: Buffer, reply: { established(): void; failed(reason: string): void }): void {
    socket.pause();
    this.#options.layers.enter(socket, newConnectionContext('socks5', client, target), head, reply);
  }
}

/** The SOCKS5 reply code that says why an upstream connection failed. */
function replyForFailure(reason: string): number {
  if (/ECONNREFUSED/.test(reason)) return socks5Reply.connectionRefused;
  if (/ENOTFOUND|EAI_AGAIN|EHOSTUNREACH/.test(reason)) return socks5Reply.hostUnreachable;
  if (/ENETUNREACH/.test(reason)) return socks5Reply.networkUnreachable;
  if (/ETIMEDOUT/.test(reason)) return socks5Reply.ttlExpired;
  return socks5Reply.generalFailure;
}
