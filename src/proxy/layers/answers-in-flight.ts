// The answers still being written on each device connection, so that what must wait for them can.
//
// A device connection with one destination ends when its server's connection is gone (Http1Layer's
// #endWithItsServer). A server that answers until it closes (an HTTP/1.0 answer without a length)
// is gone as soon as its last bytes arrive, while the answer may still be on its way to the device:
// what the device reads slower than the server sends waits in the relay. Ending the device's
// connection then cut the answer: through the CLI, 65,491 of an 81,053-byte file from openssl
// s_server -WWW, 196,608 of 200,000 bytes from a Node server, and curl exited 0 (an answer that
// runs until close cannot tell it was cut). Found on 2026-12-07.

import type http from 'node:http';
import type { Duplex } from 'node:stream';

export class AnswersInFlight {
  readonly #open = new WeakMap<Duplex, number>();
  readonly #afterwards = new WeakMap<Duplex, Array<() => void>>();

  /** `answer` is being written on `connection` until it closes (finished, or cut). */
  track(connection: Duplex, answer: http.ServerResponse): void {
    this.#open.set(connection, (this.#open.get(connection) ?? 0) + 1);
    answer.once('close', () => {
      const left = (this.#open.get(connection) ?? 1) - 1;
      this.#open.set(connection, left);
      if (left > 0) return;
      const actions = this.#afterwards.get(connection) ?? [];
      this.#afterwards.delete(connection);
      for (const action of actions) action();
    });
  }

  /** Runs `action` now when no answer is being written on `connection`, else once the last one is (actions in the order given). */
  whenWritten(connection: Duplex, action: () => void): void {
    if ((this.#open.get(connection) ?? 0) === 0) action();
    else {
      const actions = this.#afterwards.get(connection);
      if (actions) actions.push(action);
      else this.#afterwards.set(connection, [action]);
    }
  }
}
