// HPACK (RFC 7541) header block decoding for HTTP/2 read back from a capture: one decoder per
// direction, with its dynamic table, integers with prefixes, literal and Huffman-coded strings.
// Node's HTTP/2 (nghttp2) decodes only on a live session; there is no maintained npm decoder
// with types (hpack.js is unmaintained since 2018 and stream-shaped), and the code is small.
// Names and values are latin1 strings, one character per byte, as Node gives them.

import { huffmanCodeLengths, huffmanCodes } from './hpack-huffman-code.js';
import { hpackStaticTable } from './hpack-static-table.js';

export class HpackError extends Error {}

/** A node of the Huffman decoding tree: children by bit, or the symbol at a leaf. */
interface HuffmanNode {
  zero?: HuffmanNode;
  one?: HuffmanNode;
  symbol?: number;
}

let huffmanRoot: HuffmanNode | undefined;

function huffmanTree(): HuffmanNode {
  if (huffmanRoot) return huffmanRoot;
  const root: HuffmanNode = {};
  for (let symbol = 0; symbol < huffmanCodes.length; symbol++) {
    const code = huffmanCodes[symbol]!;
    const length = huffmanCodeLengths[symbol]!;
    let node = root;
    for (let bit = length - 1; bit >= 0; bit--) {
      const key = (Math.floor(code / 2 ** bit) & 1) === 1 ? 'one' : 'zero';
      node = node[key] ??= {};
    }
    node.symbol = symbol;
  }
  huffmanRoot = root;
  return root;
}

const EOS = 256;

/** Decodes a Huffman-coded string; the padding must be fewer than 8 one-bits (§5.2). */
export function huffmanDecode(bytes: Buffer): Buffer {
  const root = huffmanTree();
  const out: number[] = [];
  let node = root;
  let depth = 0;
  let allOnes = true;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = ((byte >> bit) & 1) === 1;
      const next = one ? node.one : node.zero;
      if (!next) throw new HpackError('invalid Huffman code');
      depth++;
      allOnes &&= one;
      if (next.symbol !== undefined) {
        if (next.symbol === EOS) throw new HpackError('EOS inside a Huffman-coded string');
        out.push(next.symbol);
        node = root;
        depth = 0;
        allOnes = true;
      } else {
        node = next;
      }
    }
  }
  if (depth > 7 || !allOnes) throw new HpackError('invalid Huffman padding');
  return Buffer.from(out);
}

/** Most bytes a dynamic table may hold, whatever a peer announces: bounds what a capture can make us keep. */
const MAX_TABLE_BYTES = 1024 * 1024;
/** Most bytes of one header string: bounds a hostile length. */
const MAX_STRING_BYTES = 1024 * 1024;

export class HpackDecoder {
  /** Newest first, as HPACK indexes it. */
  #dynamic: Array<readonly [string, string]> = [];
  #size = 0;
  #maxSize = 4096;

  decode(block: Buffer): Array<[string, string]> {
    const headers: Array<[string, string]> = [];
    let at = 0;
    const integer = (prefixBits: number): number => {
      if (at >= block.length) throw new HpackError('header block ends inside an integer');
      const max = (1 << prefixBits) - 1;
      let value = block[at++]! & max;
      if (value < max) return value;
      let shift = 0;
      for (;;) {
        if (at >= block.length) throw new HpackError('header block ends inside an integer');
        const byte = block[at++]!;
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
        if ((byte & 0x80) === 0) return value;
        if (shift > 28) throw new HpackError('integer too large');
      }
    };
    const string = (): string => {
      if (at >= block.length) throw new HpackError('header block ends before a string');
      const huffman = (block[at]! & 0x80) !== 0;
      const length = integer(7);
      if (length > MAX_STRING_BYTES) throw new HpackError(`header string of ${length} bytes`);
      if (at + length > block.length) throw new HpackError('header block ends inside a string');
      const raw = block.subarray(at, at + length);
      at += length;
      return (huffman ? huffmanDecode(raw) : raw).toString('latin1');
    };
    const entry = (index: number): readonly [string, string] => {
      if (index >= 1 && index <= hpackStaticTable.length) return hpackStaticTable[index - 1]!;
      const found = this.#dynamic[index - hpackStaticTable.length - 1];
      if (index === 0 || !found) throw new HpackError(`header index ${index} out of range`);
      return found;
    };
    while (at < block.length) {
      const byte = block[at]!;
      if (byte & 0x80) {
        // Indexed field (§6.1).
        const [name, value] = entry(integer(7));
        headers.push([name, value]);
      } else if ((byte & 0xc0) === 0x40) {
        // Literal with incremental indexing (§6.2.1).
        const index = integer(6);
        const name = index === 0 ? string() : entry(index)[0];
        const value = string();
        headers.push([name, value]);
        this.#add(name, value);
      } else if ((byte & 0xe0) === 0x20) {
        // Dynamic table size update (§6.3).
        const size = integer(5);
        if (size > MAX_TABLE_BYTES) throw new HpackError(`dynamic table size ${size} too large`);
        this.#maxSize = size;
        this.#evict();
      } else {
        // Literal without indexing (0000) or never indexed (0001) (§6.2.2, §6.2.3).
        const index = integer(4);
        const name = index === 0 ? string() : entry(index)[0];
        headers.push([name, string()]);
      }
    }
    return headers;
  }

  #add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.#dynamic.unshift([name, value]);
    this.#size += size;
    this.#evict();
  }

  #evict(): void {
    while (this.#size > this.#maxSize && this.#dynamic.length > 0) {
      const [name, value] = this.#dynamic.pop()!;
      this.#size -= name.length + value.length + 32;
    }
  }
}
