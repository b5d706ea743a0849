// The path (and query) of a request target, whether the client sent origin-form (`/a?b`) or, to a
// proxy, absolute-form (`http://host/a?b`): what goes upstream and into the flow's URL.

export function pathOf(url: string): string {
  if (url.startsWith('/')) return url;
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^#]*)/i.exec(url);
  return match?.[1] || '/';
}
