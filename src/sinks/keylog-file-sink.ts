// --keylog FILE (or SSLKEYLOGFILE): the TLS secrets of both sides of every decrypted connection,
// in NSS key log format, appended as each handshake makes them, so a packet capture taken at the
// same time opens decrypted in Wireshark (tls.keylog_file). The file is as sensitive as the
// traffic itself: mode 0600, tightened if it already existed looser.

import fs from 'node:fs';
import { ConfigError, describeError } from '../util/errors.js';

export class KeylogFileSink {
  readonly path: string;
  readonly #fd: number;
  readonly #onFailure: (message: string) => void;
  #failed: string | undefined;
  #lines = 0;

  /** Opens (or creates) the file for appending; a path that cannot be written is a configuration error. */
  constructor(file: string, onFailure: (message: string) => void) {
    this.path = file;
    this.#onFailure = onFailure;
    try {
      this.#fd = fs.openSync(file, 'a', 0o600);
      const mode = fs.fstatSync(this.#fd).mode & 0o777;
      if (mode !== 0o600) fs.fchmodSync(this.#fd, 0o600);
    } catch (error) {
      throw new ConfigError(`--keylog ${file}: ${describeError(error)}`);
    }
  }

  get lines(): number {
    return this.#lines;
  }

  /** One key log line as Node gives it (newline included). Never throws: the proxy goes on. */
  write(line: Buffer): void {
    if (this.#failed) return;
    try {
      fs.writeSync(this.#fd, line);
      this.#lines++;
    } catch (error) {
      this.#failed = describeError(error);
      this.#onFailure(`--keylog ${this.path}: ${this.#failed}; no more TLS keys are written`);
    }
  }

  close(): void {
    fs.closeSync(this.#fd);
  }
}
