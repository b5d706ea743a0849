// Where a raw stream still open may be cut in parts (stream-relay.ts). Each part is inspected
// alone, so it must read without the parts before it. Cut where both sides were quiet, SMTP,
// IMAP, POP3, MQTT and most protocols of commands and answers do: a client waits for its answer
// between commands. An IMAP session after COMPRESS DEFLATE (RFC 4978; Thunderbird and K-9 Mail
// turn it on when the server offers it) does not: from there on each side is one deflate stream,
// whose bytes are read with the window of all those before. It stays one part from then on.

/** A tagged IMAP COMPRESS DEFLATE command at the start of a line. */
const IMAP_COMPRESS = /(?:^|\r\n)[!-~]+ COMPRESS DEFLATE\r\n/i;

/** Whether the stream may still be cut after a part in which the client sent `clientBytes`. */
export function mayCutStreamAfter(clientBytes: Buffer): boolean {
  return !IMAP_COMPRESS.test(clientBytes.toString('latin1'));
}
