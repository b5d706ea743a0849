// The datagrams between a device and one address and port, as one `raw` flow of scheme `udp`:
// what each side sent, joined in order (kept as a TCP stream's: the first
// `limits.rawStreamCaptureBytes` each way; every byte counted), so
// the detectors read UDP payloads as they read a TCP stream's. Datagram boundaries are not kept.
// No sockets here: the relay pushes what passed.

import { BodyCapture } from '../../flow/body-capture.js';
import { limits } from '../../limits.js';
import { newFlowId, type CaptureMode, type Endpoint, type RawFlow } from '../../model/flow.js';

export interface UdpExchangeStart {
  readonly client: Endpoint;
  readonly mode: CaptureMode;
  readonly target: { readonly host: string; readonly port: number };
  readonly tags: readonly string[];
  /** Bytes kept each way (default `limits.rawStreamCaptureBytes`); 0 counts them only. */
  readonly captureBytes?: number;
}

export class UdpExchange {
  readonly #start: UdpExchangeStart;
  readonly #startedAt = new Date();
  readonly #up: BodyCapture;
  readonly #down: BodyCapture;

  constructor(start: UdpExchangeStart) {
    this.#start = start;
    const captureBytes = start.captureBytes ?? limits.rawStreamCaptureBytes;
    this.#up = new BodyCapture(captureBytes);
    this.#down = new BodyCapture(captureBytes);
  }

  fromDevice(payload: Buffer): void {
    this.#up.push(payload);
  }

  fromServer(payload: Buffer): void {
    this.#down.push(payload);
  }

  /** The flow as it stands. */
  flow(): RawFlow {
    const endedAt = new Date();
    const { client, mode, target, tags } = this.#start;
    return {
      id: newFlowId(), kind: 'raw', scheme: 'udp',
      startedAt: this.#startedAt.toISOString(), endedAt: endedAt.toISOString(), durationMs: endedAt.getTime() - this.#startedAt.getTime(),
      client, mode, target: { host: target.host, port: target.port }, destination: { ip: target.host, port: target.port },
      bytesUp: this.#up.totalBytes, bytesDown: this.#down.totalBytes,
      stream: { up: this.#up.result(), down: this.#down.result() },
      tags: [...tags],
    };
  }
}
