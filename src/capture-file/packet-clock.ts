// Timestamps for the packets we make: the time the bytes passed, in microseconds, never going
// back within a file, so a run of packets made from one chunk stays in order after the previous.

export class PacketClock {
  #last = 0;

  /** The first of `count` consecutive microsecond timestamps for packets made now. */
  next(count = 1): number {
    const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const first = Math.max(now, this.#last + 1);
    this.#last = first + Math.max(0, count - 1);
    return first;
  }
}
