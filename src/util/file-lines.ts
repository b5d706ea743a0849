// A file's lines as byte ranges, read through one small buffer: a large file (a keylog) read
// whole would raise the proxy's resting memory for good, because the allocator keeps the pages
// after the buffer is freed.

import fs from 'node:fs';

export const defaultReadBufferBytes = 1024 * 1024;

/**
 * Calls `onLine` with each line of a file: the bytes from `start` to `end` of `bytes` (no newline).
 * The bytes are only valid during the call. A last line without a newline counts too. A line
 * longer than the buffer is refused with an error, as no file read this way has one.
 */
export async function eachLine(file: string, onLine: (bytes: Buffer, start: number, end: number) => void, bufferBytes = defaultReadBufferBytes): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  const buffer = Buffer.allocUnsafe(bufferBytes);
  let filled = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      const end = filled + bytesRead;
      const view = buffer.subarray(0, end);
      let at = 0;
      for (let eol = view.indexOf(10, at); eol >= 0; eol = view.indexOf(10, at)) {
        onLine(view, at, eol);
        at = eol + 1;
      }
      if (bytesRead === 0) {
        if (at < end) onLine(view, at, end);
        return;
      }
      if (at === 0 && end === buffer.length) throw new Error(`${file}: a line longer than ${bufferBytes} bytes`);
      // The unfinished line moves to the front; the next read completes it.
      buffer.copyWithin(0, at, end);
      filled = end - at;
    }
  } finally {
    await handle.close();
  }
}
