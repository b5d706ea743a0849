// TLS sessions of the servers we connect to, kept so the next connection to the same server
// resumes instead of paying a full handshake (a key exchange and a certificate chain to verify,
// on our side and the server's), as a phone's own TLS stack does. Only our side of the upstream
// handshake changes; the device's bytes are untouched.
//
// Keyed by everything that made the session: address, port, the name we asked for (SNI), the
// context (the shared roots, or the lab's client certificate for that host) and whether the
// server's certificate was verified, so a session is only offered where the same handshake would
// have been made in full (an unverified session never stands in for a verified handshake).
// Bounded: the oldest server is forgotten first.
//
// A session also keeps what the server's certificate was (its names and kind of key, for our leaf:
// ca/leaf-shape.ts): a connection that resumes one has no certificate to show (Node's
// getPeerCertificate() is empty then), though its server is the one that showed it.

import type tls from 'node:tls';
import { limits } from '../limits.js';
import { shapeOfServerCertificate, type LeafShape } from './ca/leaf-shape.js';

/** The handshake a session came from. */
export interface SessionKey {
  readonly host: string;
  readonly port: number;
  readonly servername: string | undefined;
  readonly context: tls.SecureContext | undefined;
  readonly verified: boolean;
}

interface Kept {
  readonly session: Buffer;
  readonly certificate: LeafShape | undefined;
}

export class UpstreamSessions {
  readonly #sessions = new Map<string, Kept>();
  /** Per connection: its server's certificate, read once (or carried over from the session it resumed). */
  readonly #certificates = new WeakMap<tls.TLSSocket, LeafShape | undefined>();
  /** The session each remembered connection was offered, if any. */
  readonly #resumedFrom = new WeakMap<tls.TLSSocket, Kept | undefined>();
  readonly #disowned = new WeakSet<tls.TLSSocket>();
  readonly #contextIds = new WeakMap<tls.SecureContext, number>();
  #nextContextId = 1;
  readonly #maxEntries: number;

  constructor(maxEntries: number = limits.upstreamTlsSessions) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#sessions.size;
  }

  #key({ host, port, servername, context, verified }: SessionKey): string {
    let contextId = 0;
    if (context) {
      contextId = this.#contextIds.get(context) ?? this.#nextContextId++;
      this.#contextIds.set(context, contextId);
    }
    return `${host}|${port}|${servername ?? ''}|${contextId}|${verified ? 'verified' : 'unverified'}`;
  }

  /** The session to offer a new connection to this server, if one was kept. */
  get(of: SessionKey): Buffer | undefined {
    return this.#sessions.get(this.#key(of))?.session;
  }

  /** Keeps the sessions (tickets) the server hands this connection; the last one wins. */
  remember(socket: tls.TLSSocket, of: SessionKey): void {
    const key = this.#key(of);
    const resumedFrom = this.#sessions.get(key);
    socket.on('session', (session: Buffer) => {
      if (this.#disowned.has(socket)) return;
      const kept = { session, certificate: this.#certificateOf(socket, resumedFrom) };
      this.#sessions.delete(key);
      this.#sessions.set(key, kept);
      if (this.#sessions.size > this.#maxEntries) this.#sessions.delete(this.#sessions.keys().next().value!);
    });
    this.#resumedFrom.set(socket, resumedFrom);
  }

  /** What the server's certificate on this connection names, and its kind of key; undefined when not known. */
  certificateOf(socket: tls.TLSSocket): LeafShape | undefined {
    return this.#certificateOf(socket, this.#resumedFrom.get(socket));
  }

  #certificateOf(socket: tls.TLSSocket, resumedFrom: Kept | undefined): LeafShape | undefined {
    if (this.#certificates.has(socket)) return this.#certificates.get(socket);
    const certificate = socket.isSessionReused() ? resumedFrom?.certificate : shapeOfServerCertificate(socket.getPeerCertificate());
    this.#certificates.set(socket, certificate);
    return certificate;
  }

  /** A session the server refused to resume (or a failed handshake): not offered again. */
  forget(of: SessionKey): void {
    this.#sessions.delete(this.#key(of));
  }

  /**
   * A remembered connection turned out not to be what its key says (a server that did not verify,
   * on a connection checked after its handshake): what it kept is dropped, and later tickets too.
   */
  disown(socket: tls.TLSSocket, of: SessionKey): void {
    this.#disowned.add(socket);
    this.forget(of);
  }

  clear(): void {
    this.#sessions.clear();
  }
}
