// Which layer takes a connection once we have decrypted it (mitmproxy's next_layer, after TLS).
// ALPN decides first; without it, the first decrypted bytes do, as on a plain connection, and the
// port says when the server speaks first (implicit-TLS mail: SMTPS greets, IMAPS and POP3S too),
// so a client that waits is not mistaken for one that has nothing to say. Pure, table-tested.

import { firstHeadRefusal } from './http1-head-refusal.js';
import { readRequestLine } from './http1-request-line.js';
import { decideNextLayer, type ClientQuiet } from './next-layer.js';

export type LayerAfterTls =
  | { readonly layer: 'http1' }
  | { readonly layer: 'http2' }
  /** Relayed as a decrypted byte stream and captured; `why` says how we know. */
  | { readonly layer: 'raw'; readonly why: 'alpn' | 'server-speaks-first' | 'client-silent' | 'not-http' | 'http1-parser-refuses' }
  /** Nothing yet, and neither ALPN nor the port tells: wait for the client's first bytes. */
  | { readonly layer: 'wait' };

/** Implicit-TLS ports where the server speaks first: SMTPS, IMAPS, POP3S, NNTPS, FTPS, telnets. */
export const implicitTlsServerFirstPorts: ReadonlySet<number> = new Set([465, 563, 990, 992, 993, 995]);

/**
 * `alpn`: what we agreed with the device (undefined when it offered none, or we chose none).
 * `first`: its first decrypted bytes, when it sent some. `quiet`: without them, why the client is not
 * waited for any longer: it said nothing for the sniff window, or the server spoke first.
 * With ALPN http/1.1 the first bytes still have a say: a request line our HTTP/1 parser would
 * refuse or misread (a method it does not know) is relayed as it is (http1-request-line.ts), and
 * so is a request whose head it would refuse (http1-head-refusal.ts).
 */
export function decideAfterTls(alpn: string | undefined, port: number, first?: Buffer, quiet?: ClientQuiet): LayerAfterTls {
  if (alpn === 'h2') return { layer: 'http2' };
  if (alpn === 'http/1.1' || alpn === 'http/1.0') {
    if (first && readRequestLine(first) === 'other') return { layer: 'raw', why: 'not-http' };
    return first && firstHeadRefusal(first) !== undefined ? { layer: 'raw', why: 'http1-parser-refuses' } : { layer: 'http1' };
  }
  if (alpn) return { layer: 'raw', why: 'alpn' };
  if (!first || first.length === 0) {
    if (implicitTlsServerFirstPorts.has(port)) return { layer: 'raw', why: 'server-speaks-first' };
    return quiet ? { layer: 'raw', why: quiet } : { layer: 'wait' };
  }
  const plain = decideNextLayer(first, port);
  if (plain.layer === 'http1' || plain.layer === 'http2') return plain;
  if (plain.layer === 'raw' && plain.why === 'http1-parser-refuses') return { layer: 'raw', why: plain.why };
  // A ClientHello inside TLS, or anything else: not ours to parse, relayed and captured as it is.
  return { layer: 'raw', why: 'not-http' };
}
