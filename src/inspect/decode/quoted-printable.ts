// Quoted-printable (RFC 2045 6.7): soft line breaks removed, =XX escapes turned back into bytes.
// Used for mail parts and vCard 2.1 values.

export function decodeQuotedPrintable(text: string): Buffer {
  return Buffer.from(text.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
}
