// A fixed-capacity buffer: the UI keeps the newest N rows and counts what fell out, so a run with
// a million flows costs the same memory as one with ten thousand.

export class RingBuffer<T> {
  readonly capacity: number;
  #items: T[] = [];
  #start = 0;
  dropped = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get length(): number {
    return this.#items.length;
  }

  push(item: T): void {
    if (this.#items.length < this.capacity) {
      this.#items.push(item);
      return;
    }
    this.#items[this.#start] = item;
    this.#start = (this.#start + 1) % this.capacity;
    this.dropped++;
  }

  /** Item `index` counted from the newest (0 = newest). */
  newest(index: number): T | undefined {
    if (index < 0 || index >= this.#items.length) return undefined;
    const physical = (this.#start + this.#items.length - 1 - index) % this.#items.length;
    return this.#items[physical];
  }

  /** Newest first. */
  *fromNewest(): Generator<T> {
    for (let i = 0; i < this.#items.length; i++) yield this.newest(i)!;
  }
}
