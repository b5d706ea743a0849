// Optional `--proxy-auth USER:PASS` (HTTP Basic on Proxy-Authorization).

import crypto from 'node:crypto';
import { ConfigError } from '../../util/errors.js';

export class ProxyAuth {
  readonly #expected: Buffer;

  constructor(userColonPass: string) {
    const colon = userColonPass.indexOf(':');
    if (colon <= 0) throw new ConfigError('--proxy-auth takes USER:PASS, with a non-empty user');
    this.#expected = Buffer.from(`Basic ${Buffer.from(userColonPass).toString('base64')}`);
  }

  /** SOCKS5 username/password (RFC 1929): the same check as the HTTP header. */
  acceptsCredentials(user: string, pass: string): boolean {
    return this.accepts(`Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
  }

  accepts(headerValue: string | string[] | undefined): boolean {
    if (typeof headerValue !== 'string') return false;
    const given = Buffer.from(headerValue.trim());
    // Constant time, so the password cannot be guessed byte by byte from response times.
    return given.length === this.#expected.length && crypto.timingSafeEqual(given, this.#expected);
  }
}
