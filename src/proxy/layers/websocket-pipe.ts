// One direction of a relayed WebSocket: the messages one side sends, written to the other side in
// order, never dropped while that side is open. A message the other side cannot take yet (it is
// not open yet, or its send buffer is past the high-water mark) is held, and the sending side is
// paused so no more are read from its socket; when the held messages are written, it is resumed.
// Pausing stops reading, but what ws already read is still parsed and delivered (the rest of a
// TCP read, the upgrade's `head`, messages inflating), so the hold is bounded: past
// limits.webSocketHeldBytes the pipe gives up and says so (the relay closes both sides with 1013).
//
// ws delivers each message whole, fragments reassembled and inflated, and sends it as one: the
// content, its order and text-or-binary are kept, frame boundaries and per-frame compression are
// ws's choice on each side.

import { WebSocket } from 'ws';
import { limits } from '../../limits.js';

/**
 * Send buffer (bytes not yet written to the socket, ws's bufferedAmount) past which the sending
 * side is paused. Node's own stream high-water mark is of this order; much higher only grows
 * memory per connection, much lower costs throughput on large messages.
 */
const HIGH_WATER_BYTES = 64 * 1024;

interface HeldMessage {
  readonly data: Buffer;
  readonly binary: boolean;
}

export class MessagePipe {
  readonly #source: WebSocket;
  readonly #onOverflow: (heldBytes: number) => void;
  #target: WebSocket | undefined;
  readonly #held: HeldMessage[] = [];
  #heldBytes = 0;
  #overflowed = false;

  /** `onOverflow` is called once, when a message would take the hold past its cap. */
  constructor(source: WebSocket, onOverflow: (heldBytes: number) => void) {
    this.#source = source;
    this.#onOverflow = onOverflow;
  }

  /** The side messages go to, once it is open; what was held for it is written now. */
  connect(target: WebSocket): void {
    this.#target = target;
    this.#flush();
  }

  /** A message from the source, to be written to the target in order. */
  push(data: Buffer, binary: boolean): void {
    if (this.#overflowed) return;
    const target = this.#target;
    if (target && target.readyState !== WebSocket.OPEN && target.readyState !== WebSocket.CONNECTING) return; // closing: nobody left to take it
    if (this.#held.length === 0 && this.#canWrite()) {
      this.#write({ data, binary });
      return;
    }
    if (this.#heldBytes + data.length > limits.webSocketHeldBytes) {
      const wanted = this.#heldBytes + data.length;
      this.#overflowed = true;
      this.#held.length = 0;
      this.#heldBytes = 0;
      this.#onOverflow(wanted);
      return;
    }
    this.#held.push({ data, binary });
    this.#heldBytes += data.length;
    this.#source.pause();
  }

  #canWrite(): boolean {
    const target = this.#target;
    return target !== undefined && target.readyState === WebSocket.OPEN && target.bufferedAmount <= HIGH_WATER_BYTES;
  }

  #write(message: HeldMessage): void {
    const target = this.#target!;
    // The callback runs once the frame is written to the socket (or failed, when the target is
    // closing: the relay hears of that through 'close').
    target.send(message.data, { binary: message.binary }, (error) => {
      if (!error) this.#flush();
    });
    if (target.bufferedAmount > HIGH_WATER_BYTES) this.#source.pause();
  }

  #flush(): void {
    while (this.#held.length > 0 && this.#canWrite()) {
      const message = this.#held.shift()!;
      this.#heldBytes -= message.data.length;
      this.#write(message);
    }
    if (this.#held.length === 0 && this.#canWrite() && this.#source.isPaused) this.#source.resume();
  }
}
