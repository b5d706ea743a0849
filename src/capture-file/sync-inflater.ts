// permessage-deflate (RFC 7692) undone synchronously, in the shape ws's Receiver calls its
// extension with: decompress(fragment, fin, callback). ws's own inflates asynchronously through a
// zlib stream; a recorded session is read in one synchronous pass, so each message is inflated at
// once when its last fragment arrives, with the direction's previous 32 KiB of output as the
// preset dictionary: that is the LZ77 window a sender keeps across messages (context takeover),
// and harmless when it does not (no_context_takeover).

import zlib from 'node:zlib';

/** The bytes a sender strips from the end of each compressed message (RFC 7692 §7.2.1). */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const WINDOW_BYTES = 32 * 1024;

export class SyncInflater {
  readonly #maxOutputBytes: number;
  #fragments: Buffer[] = [];
  #window: Buffer = Buffer.alloc(0);

  constructor(maxOutputBytes: number) {
    this.#maxOutputBytes = maxOutputBytes;
  }

  decompress(data: Buffer, fin: boolean, callback: (error: Error | null, result?: Buffer) => void): void {
    this.#fragments.push(data);
    if (!fin) {
      callback(null, Buffer.alloc(0));
      return;
    }
    const input = Buffer.concat([...this.#fragments, TRAILER]);
    this.#fragments = [];
    let output: Buffer;
    try {
      output = zlib.inflateRawSync(input, {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: this.#maxOutputBytes,
        ...(this.#window.length > 0 ? { dictionary: this.#window } : {}),
      });
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    // A copy: the window must not keep a large message alive.
    this.#window = output.length >= WINDOW_BYTES ? Buffer.from(output.subarray(-WINDOW_BYTES)) : Buffer.from(Buffer.concat([this.#window, output]).subarray(-WINDOW_BYTES));
    callback(null, output);
  }
}
