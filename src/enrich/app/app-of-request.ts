// The app behind one HTTP request, from what the request itself says: package headers, the
// User-Agent, an app id in the body. Pure; best effort; every answer names its evidence.
// The strongest evidence wins; at equal strength, a package id beats a bare name (a CFNetwork
// `Instagram` against the body's `com.burbn.instagram`), then headers before the User-Agent before the body.

import type { AppAttribution, AppConfidence, HttpRequestRecord } from '../../model/flow.js';
import { headerValue } from '../../model/flow.js';
import { appOfPackageHeaders } from './package-headers.js';
import { appOfUserAgent } from './user-agent-apps.js';
import { appOfRequestBody } from './body-app-id.js';
import { isPackageName } from './package-name.js';

const strength: Record<AppConfidence, number> = { high: 3, medium: 2, low: 1 };

/** How much stronger `a` is than `b` (positive: stronger), for callers that compare attributions. */
export function compareConfidence(a: AppConfidence, b: AppConfidence): number {
  return strength[a] - strength[b];
}

export function appOfRequest(request: HttpRequestRecord): AppAttribution | undefined {
  const fromHeaders = appOfPackageHeaders(request.headers);
  if (fromHeaders) return fromHeaders;
  const userAgent = headerValue(request.headers, 'user-agent');
  const fromUserAgent = userAgent === undefined ? undefined : appOfUserAgent(userAgent);
  if (fromUserAgent?.confidence === 'high') return fromUserAgent;
  const fromBody = appOfRequestBody(request);
  if (!fromUserAgent || !fromBody) return fromUserAgent ?? fromBody;
  const order = compareConfidence(fromUserAgent.confidence, fromBody.confidence);
  if (order !== 0) return order > 0 ? fromUserAgent : fromBody;
  return !isPackageName(fromUserAgent.id) && isPackageName(fromBody.id) ? fromBody : fromUserAgent;
}
