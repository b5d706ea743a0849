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
 * The request target that goes to the server. For a device that uses phonehome as its HTTP proxy
 * (`sentToUsAsProxy`, RelayPlan): the path and query, or `*` for an OPTIONS about the server as a
 * whole (RFC 9112 section 3.2.4: the asterisk-form, which a client of a proxy sends as an
 * absolute URL without a path; until 2026-12-06 it went on as `OPTIONS /`, a question about the
 * root resource). Otherwise (SOCKS5, transparent, WireGuard) as the device wrote it,
 * absolute-form included, which a device sends to a proxy of its own (a proxy setting behind a
 * transparent or WireGuard capture); until 2026-12-06 it went on as a path, which that proxy
 * takes for a request to itself.
 */
export function upstreamTarget(method: string | undefined, url: string, sentToUsAsProxy: boolean): string {
  if (!sentToUsAsProxy || url === '*') return url;
  if (method === 'OPTIONS' && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*$/i.test(url)) return '*';
  return pathOf(url);
}
