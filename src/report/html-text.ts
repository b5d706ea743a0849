// The one boundary where text that came from traffic becomes HTML. Everything a device sent is
// hostile until shown otherwise: markup is escaped, and the characters that change what a reader
// sees without being seen themselves — controls, bidirectional overrides (the "RTL trick" that
// shows `gpj.exe` as `exe.jpg`), zero-width joiners and spaces — are made visible as \uXXXX.

const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an HTML element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** Untrusted text, with its hidden characters shown, cut to `maxChars`, escaped for HTML. */
export function shown(text: unknown, maxChars = 2_000): string {
  const value = typeof text === 'string' ? text : text === undefined || text === null ? '' : String(text);
  const cut = value.length > maxChars ? `${value.slice(0, maxChars)}…` : value;
  return escapeHtml(cut.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** A byte count as people read it: 812 B, 74.6 kB, 3.2 MB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1000) return `${Math.max(0, Math.round(bytes || 0))} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
