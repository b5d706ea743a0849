// --redact: evidence excerpts masked in every output. Keeps the shape (length, separators) so a
// reader still sees what kind of value it was, but not the value.

export function redactText(text: string): string {
  return text.replace(/[\p{L}\p{N}]/gu, (c, offset: number) => (offset < 2 ? c : /\p{N}/u.test(c) ? '#' : '*'));
}
