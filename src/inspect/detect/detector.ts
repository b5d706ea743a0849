// The detector contract. Detectors are pure and synchronous: bytes and context in, finding drafts
// out, within a budget. They never see a socket; the pipeline calls them off the forwarding path.

import type { Flow } from '../../model/flow.js';
import type { Category, FindingDraft } from '../../model/finding.js';

/** One readable layer of a message: the bytes and how we got to them from the raw message. */
export interface View {
  readonly bytes: Buffer;
  /** Decode chain from the raw message, e.g. ['body', 'content-encoding:gzip', 'json:$.photo', 'base64']. */
  readonly path: readonly string[];
  readonly direction: 'request' | 'response';
  /** Media type declared for this layer, lower-case, without parameters, when known. */
  readonly contentType?: string;
  /** Headers that came with this layer (the message's, or a multipart part's), for context. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** File name given for this layer (multipart filename, URL path). */
  readonly fileName?: string;
  /** The key or field name that held this layer (JSON key, form field), lower-case. */
  readonly key?: string;
  /** Structured value when the layer parsed as JSON or a form (fields as an object). */
  readonly structured?: unknown;
  /** The decode chain found layers beneath this one (so it is a container it could open). */
  readonly decoded?: boolean;
  /** How many decode steps below the raw message. */
  readonly depth: number;
  /** 'stream' for the two directions of a raw TCP stream (SMTP, IMAP…); 'dns' for a DNS question's name. */
  readonly origin?: 'http' | 'websocket' | 'stream' | 'dns';
  readonly flow: Flow;
}

export interface Budget {
  /** Wall-clock deadline (performance.now() milliseconds) for this message. */
  readonly deadlineMs: number;
}

export interface Detector {
  /** Stable id, `category/what`: 'photo/jpeg'. */
  readonly id: string;
  readonly category: Category;
  /** Cheap check; detect() runs only when this is true. */
  gate(view: View): boolean;
  detect(view: View, budget: Budget): FindingDraft[];
}
