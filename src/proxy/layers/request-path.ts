// The path (and query) of a request target, whether the client sent origin-form (`/a?b`) or, to a
// proxy, absolute-form (`http://host/a?b`): what goes upstream and into the flow's URL.

export function pathOf(url: string): string {
  if (url.startsWith('/')) return url;
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^#]*)/i.exec(url);
  const rest = match?.[1] ?? '';
  // `http://host?q` has an empty path: it is `/?q` (RFC 9112 section 3.2.1).
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/**
 * The request target that goes to the server: the path and query, or `*` for an OPTIONS about the
 * server as a whole (RFC 9112 section 3.2.4: the asterisk-form, which a client of a proxy sends as
 * an absolute URL without a path). Until 2026-12-06 such a request went on as `OPTIONS /`, a
 * question about the root resource instead of the server.
 */
export function upstreamTarget(method: string | undefined, url: string): string {
  if (url === '*') return '*';
  if (method === 'OPTIONS' && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*$/i.test(url)) return '*';
  return pathOf(url);
}
