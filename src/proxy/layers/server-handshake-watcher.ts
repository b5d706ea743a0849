// Watches the bytes a TLS server sends, before encryption starts, for a CertificateRequest: the
// server wants a client certificate (mutual TLS). Node's TLS client has no event for that, and a
// TLS 1.2 server that requires one simply fails the handshake with a generic alert, which would
// otherwise read as "the server is broken". In TLS 1.3 the request is encrypted; the server's
// certificate_required alert (116) says it instead (see upstream.ts).
//
// Sans-IO: fed the raw server-to-client bytes as they arrive, it parses TLS records of the
// handshake content type and walks the handshake messages by their length, keeping only a few
// header bytes at a time, whatever the size of the certificate chain. It stops at the first
// ChangeCipherSpec or alert (what follows is encrypted or over).

const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CERTIFICATE_REQUEST = 13;

export class ServerHandshakeWatcher {
  /** The server asked for a client certificate in the clear part of its handshake. */
  certificateRequested = false;
  #done = false;
  /** Bytes of the current record header collected so far. */
  #recordHeader: number[] = [];
  #recordType = 0;
  #recordLeft = 0;
  /** Bytes of the current handshake message header (type + 24-bit length) collected so far. */
  #messageHeader: number[] = [];
  #messageLeft = 0;

  /** True once nothing more can be learned (encryption started, an alert, or a request seen). */
  get done(): boolean {
    return this.#done;
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.#done) {
      if (this.#recordLeft === 0) {
        this.#recordHeader.push(chunk[i++]!);
        if (this.#recordHeader.length < 5) continue;
        const [type, , , high, low] = this.#recordHeader as [number, number, number, number, number];
        this.#recordHeader = [];
        this.#recordType = type;
        this.#recordLeft = (high << 8) | low;
        // ChangeCipherSpec, an alert, application data or garbage: nothing in the clear follows.
        if (type !== CONTENT_HANDSHAKE) this.#done = true;
        continue;
      }
      const take = Math.min(this.#recordLeft, chunk.length - i);
      if (this.#recordType === CONTENT_HANDSHAKE) this.#handshakeBytes(chunk, i, i + take);
      this.#recordLeft -= take;
      i += take;
    }
  }

  /** Walks handshake messages that may span records: header, then a body that is skipped. */
  #handshakeBytes(chunk: Uint8Array, start: number, end: number): void {
    let i = start;
    while (i < end && !this.#done) {
      if (this.#messageLeft > 0) {
        const skip = Math.min(this.#messageLeft, end - i);
        this.#messageLeft -= skip;
        i += skip;
        continue;
      }
      this.#messageHeader.push(chunk[i++]!);
      if (this.#messageHeader.length < 4) continue;
      const [type, a, b, c] = this.#messageHeader as [number, number, number, number];
      this.#messageHeader = [];
      this.#messageLeft = (a << 16) | (b << 8) | c;
      if (type === HANDSHAKE_CERTIFICATE_REQUEST) {
        this.certificateRequested = true;
        this.#done = true;
      }
    }
  }
}
