// A pcapng file written as traffic passes, crash-safe the way the flow log is, for binary blocks:
// each append is one write system call of whole blocks, so a kill -9 between writes leaves only
// whole blocks. A kill that lands inside a write may cut its last block (the kernel stops copying
// at a page boundary): readers still get every block before it (tshark reads them, then says the
// file was cut short), and the next open — or recover, with trimToWholeBlocks — takes the cut
// block off. The flow log's AppendOnlyFile repairs a line cut by a failing
// write with a newline; a cut block has no such repair (a reader would stop there for good), so a
// failed or short write (ENOSPC, EIO) is taken back with ftruncate to the last whole block. While
// the disk refuses, blocks are not kept in memory (the proxy must not grow): they are counted as
// not recorded, the failure is said once, and writing resumes by itself when the disk takes a
// write again (tried at most every `retryMs`). Opening trims a torn tail left by a power cut, then
// starts a new section, so --append adds a section to a file readers can still read whole.

import fs from 'node:fs';
import { describeError } from '../util/errors.js';
import { interfaceDescriptionBlock, sectionHeaderBlock, wholeBlocksEnd } from './pcapng-blocks.js';

export interface PcapngFileEvents {
  /** Said once per failure episode. */
  failed(message: string): void;
  /** Writing works again. */
  recovered(message: string): void;
}

export interface PcapngFileStats {
  /** Bytes in the file written by this session (its section included). */
  readonly bytesWritten: number;
  /** Appends refused by the disk (their blocks are not in the file). */
  readonly failedAppends: number;
  /** The last write error while failing, else undefined. */
  readonly error?: string;
}

export interface PcapngFileOptions {
  /** Set in the Section Header Block (shb_userappl). */
  readonly application: string;
  readonly comment?: string;
  /** File mode when it is created (0600 for a file that carries keys). */
  readonly mode?: number;
  readonly retryMs?: number;
}

/**
 * Trims `file` to its last whole block; returns the bytes removed (0 for a whole file). A file that
 * is not a little-endian pcapng (another tool's capture, any other file) is refused, never cut.
 */
export function trimToWholeBlocks(file: string): number {
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    const start = Buffer.alloc(12);
    const got = fs.readSync(fd, start, 0, 12, 0);
    if (size > 0 && (got < 12 || start.readUInt32LE(0) !== 0x0a0d0d0a || start.readUInt32LE(8) !== 0x1a2b3c4d)) {
      throw new Error(`${file} is not a pcapng file phonehome wrote (it is left as it is): choose another file`);
    }
    const head = Buffer.alloc(8);
    const end = wholeBlocksEnd((position, length) => {
      const read = fs.readSync(fd, head, 0, length, position);
      return head.subarray(0, read);
    }, size);
    if (end < size) fs.ftruncateSync(fd, end);
    return size - end;
  } finally {
    fs.closeSync(fd);
  }
}

export class PcapngFile {
  readonly path: string;
  readonly #fd: number;
  readonly #events: PcapngFileEvents;
  readonly #retryMs: number;
  /** Where the last whole block ends. */
  #end: number;
  #bytesWritten = 0;
  #failedAppends = 0;
  #error: string | undefined;
  #lastTryMs = 0;
  #closed = false;

  /** Opens (or creates) `file` and starts a section; throws when it cannot be opened or begun. */
  constructor(file: string, events: PcapngFileEvents, options: PcapngFileOptions) {
    this.path = file;
    this.#events = events;
    this.#retryMs = options.retryMs ?? 1000;
    if (fs.existsSync(file)) trimToWholeBlocks(file);
    this.#fd = fs.openSync(file, 'a', options.mode ?? 0o644);
    if (options.mode !== undefined && (fs.fstatSync(this.#fd).mode & 0o777) !== options.mode) fs.fchmodSync(this.#fd, options.mode);
    this.#end = fs.fstatSync(this.#fd).size;
    const section = Buffer.concat([sectionHeaderBlock({ application: options.application, ...(options.comment ? { comment: options.comment } : {}) }), interfaceDescriptionBlock({ name: 'phonehome' })]);
    if (!this.append(section)) {
      const reason = this.#error ?? 'the section could not be written';
      fs.closeSync(this.#fd);
      throw new Error(reason);
    }
  }

  get stats(): PcapngFileStats {
    return { bytesWritten: this.#bytesWritten, failedAppends: this.#failedAppends, ...(this.#error ? { error: this.#error } : {}) };
  }

  /** True while the last write failed and the next retry is not due: callers count instead of building blocks. */
  get refusing(): boolean {
    return this.#closed || (this.#error !== undefined && Date.now() - this.#lastTryMs < this.#retryMs);
  }

  /** Appends whole blocks (already concatenated) in one write; false when they are not in the file. Never throws. */
  append(blocks: Buffer): boolean {
    if (this.refusing) {
      this.#failedAppends++;
      return false;
    }
    this.#lastTryMs = Date.now();
    try {
      const written = fs.writeSync(this.#fd, blocks);
      if (written !== blocks.length) throw Object.assign(new Error(`short write (${written} of ${blocks.length} bytes): the disk took only part of it`), { code: 'ENOSPC' });
    } catch (error) {
      this.#takeBack();
      this.#failedAppends++;
      const first = this.#error === undefined;
      this.#error = describeError(error);
      if (first) this.#events.failed(`${this.path}: ${this.#error}; the proxy goes on, the traffic meanwhile is counted, not recorded`);
      return false;
    }
    this.#end += blocks.length;
    this.#bytesWritten += blocks.length;
    if (this.#error !== undefined) {
      this.#error = undefined;
      this.#events.recovered(`${this.path}: writing again`);
    }
    return true;
  }

  close(): PcapngFileStats {
    if (!this.#closed) {
      this.#closed = true;
      try {
        fs.closeSync(this.#fd);
      } catch {
        // a full disk may refuse the close too; what was written is whole
      }
    }
    return this.stats;
  }

  /** A write that failed part way leaves a cut block: cut it off again. */
  #takeBack(): void {
    try {
      if (fs.fstatSync(this.#fd).size > this.#end) fs.ftruncateSync(this.#fd, this.#end);
    } catch {
      // nothing more can be done; the next open trims it (trimToWholeBlocks)
    }
  }
}
