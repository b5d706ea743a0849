// Multi-pattern search in one pass over the bytes (Aho–Corasick), case-insensitive for ASCII:
// every canary variant is found wherever it sits in a layer, at a cost linear in the layer size.

export interface Match<T> { readonly at: number; readonly value: T }

export class AhoCorasick<T> {
  readonly #next: Array<Map<number, number>> = [new Map()];
  readonly #fail: number[] = [0];
  readonly #out: T[][] = [[]];
  readonly #rootNext = new Int32Array(256).fill(0);

  constructor(patterns: ReadonlyArray<readonly [Buffer, T]>) {
    for (const [pattern, value] of patterns) {
      if (pattern.length === 0) continue;
      let state = 0;
      for (const raw of pattern) {
        const byte = lower(raw);
        let next = this.#next[state]!.get(byte);
        if (next === undefined) {
          next = this.#next.length;
          this.#next.push(new Map());
          this.#fail.push(0);
          this.#out.push([]);
          this.#next[state]!.set(byte, next);
        }
        state = next;
      }
      this.#out[state]!.push(value);
    }
    // Breadth-first failure links.
    const queue: number[] = [];
    for (const [byte, state] of this.#next[0]!) {
      this.#rootNext[byte] = state;
      queue.push(state);
    }
    while (queue.length > 0) {
      const state = queue.shift()!;
      for (const [byte, next] of this.#next[state]!) {
        queue.push(next);
        let fail = this.#fail[state]!;
        while (fail !== 0 && !this.#next[fail]!.has(byte)) fail = this.#fail[fail]!;
        const target = this.#next[fail]!.get(byte);
        this.#fail[next] = target !== undefined && target !== next ? target : 0;
        this.#out[next]!.push(...this.#out[this.#fail[next]!]!);
      }
    }
  }

  get size(): number {
    return this.#next.length;
  }

  search(bytes: Buffer, limit = 100): Array<Match<T>> {
    const matches: Array<Match<T>> = [];
    let state = 0;
    for (let i = 0; i < bytes.length; i++) {
      const byte = lower(bytes[i]!);
      while (state !== 0 && !this.#next[state]!.has(byte)) state = this.#fail[state]!;
      state = state === 0 ? this.#rootNext[byte]! : this.#next[state]!.get(byte) ?? 0;
      const out = this.#out[state]!;
      if (out.length > 0) {
        for (const value of out) matches.push({ at: i, value });
        if (matches.length >= limit) return matches;
      }
    }
    return matches;
  }
}

function lower(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}
