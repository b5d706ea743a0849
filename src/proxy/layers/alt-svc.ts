// Alt-Svc (RFC 7838) without its QUIC alternatives. A server's `Alt-Svc: h3=":443"` invites the
// device to move to HTTP/3 over UDP 443, which phonehome cannot read and the WireGuard mode drops;
// apps that took the hint would keep trying QUIC first. This is a deliberate change of what the
// device sees, asked for by issue #20 so that apps stay on TCP: the HTTP layers hand the device the
// header without those alternatives, and the flow keeps it as the server sent it (the evidence),
// tagged `alt-svc:h3-removed`. Other alternatives (h2 on another port or host) stay as they were.

/** The flow tag of a response whose Alt-Svc lost its HTTP/3 alternatives on the way to the device. */
export const altSvcH3RemovedTag = 'alt-svc:h3-removed';

/**
 * Protocol ids that run over QUIC: `h3`, its drafts and vendor variants (`h3-29`, `h3-Q050`),
 * HTTP/0.9 over QUIC used in interop (`hq`, `hq-29`, `hq-interop`) and Google's old `quic`.
 * `h3x`, `h2`, `http/1.1` are not.
 */
function isQuicProtocol(protocolId: string): boolean {
  return /^(?:h3|hq)(?:-[a-z0-9]+)?$/i.test(protocolId) || /^quic$/i.test(protocolId);
}

/**
 * `value` without its QUIC alternatives: the same string when it has none (or is `clear`, or cannot
 * be read), the remaining alternatives joined by `, ` when some went, undefined when none is left
 * (the header should then go).
 */
export function withoutHttp3(value: string): string | undefined {
  const alternatives = splitOutsideQuotes(value, ',');
  let removed = false;
  const kept: string[] = [];
  for (const alternative of alternatives) {
    const trimmed = alternative.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    const protocolId = equals > 0 ? percentDecoded(trimmed.slice(0, equals).trim()) : undefined;
    if (protocolId !== undefined && isQuicProtocol(protocolId)) {
      removed = true;
      continue;
    }
    kept.push(trimmed);
  }
  if (!removed) return value;
  return kept.length > 0 ? kept.join(', ') : undefined;
}

/** Splits on `separator` where it is not inside a quoted string (alt-authority and parameters may be quoted). */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** A protocol-id is percent-encoded where it is not a token (`h3%2D29` is `h3-29`). */
function percentDecoded(id: string): string {
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

/**
 * HTTP/2 response headers for the device (a header object, Node's shape): their Alt-Svc without
 * QUIC alternatives, in place. True when that changed it. An Alt-Svc that came back after other
 * fields is under another case of the name (http2-header-fields.ts): each is looked at.
 */
export function dropHttp3FromHeaders(headers: Record<string, string | string[] | number | undefined>): boolean {
  if (headers['alt-svc'] === undefined) return false;
  let changed = false;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== 'alt-svc') continue;
    const sent = headers[key]!;
    const text = Array.isArray(sent) ? sent.join(', ') : String(sent);
    const value = withoutHttp3(text);
    if (value === text) continue;
    changed = true;
    if (value === undefined) delete headers[key];
    else headers[key] = value;
  }
  return changed;
}
