// Bodies of any size for the bench's uploads and downloads, written from one shared 256 kB chunk
// with backpressure, so a 1 GB upload costs the load generator no memory.

export const chunk = Buffer.alloc(256 * 1024, 0x5a);

/** Writes `bytes` of the shared chunk with backpressure, then ends the stream. */
export function writeBody(stream: NodeJS.WritableStream, bytes: number): void {
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!stream.write(piece)) return void stream.once('drain', pump);
    }
    stream.end();
  };
  pump();
}
