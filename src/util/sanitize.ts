// The one boundary where untrusted text becomes terminal text. Payloads can carry escape
// sequences (cursor moves, title changes, OSC 52 clipboard writes): every control character is
// made visible instead, and blessed's {tag} syntax is escaped for the UI.

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function toDisplay(text: string, maxChars = 500): string {
  const cut = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  return cut.replace(/\r?\n|\t/g, ' ').replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
