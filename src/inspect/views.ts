// The layers of a flow that detectors look at: each body, WebSocket or gRPC message and raw stream
// as it was captured. The decode chain adds the decoded layers beneath each of these.

import { headerValue, type Flow } from '../model/flow.js';
import type { View } from './detect/detector.js';

function mediaType(value: string | undefined): string | undefined {
  return value?.split(';')[0]?.trim().toLowerCase() || undefined;
}

/** The last path segment of a request URL, when it looks like a file name (IMG_0001.jpg). */
function fileNameOf(url: string): { fileName?: string } {
  try {
    const last = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    return /\.[a-z0-9]{2,5}$/i.test(last) ? { fileName: last } : {};
  } catch {
    return {};
  }
}

/** The raw layers of a flow: bodies, WebSocket and gRPC messages, stream directions. */
export function viewsOf(flow: Flow): View[] {
  const views: View[] = [];
  // A gRPC call's bodies are its length-prefixed messages: each message is its own layer (below),
  // so the framed body is not read a second time.
  const grpc = flow.messages?.some((m) => m.protocol === 'grpc') ?? false;
  // The request always has a layer, even without a body: credentials and query strings ride on it.
  if (flow.request) {
    views.push({ bytes: grpc ? Buffer.alloc(0) : flow.request.body.bytes, path: ['body'], direction: 'request', contentType: mediaType(headerValue(flow.request.headers, 'content-type')), headers: flow.request.headers, ...fileNameOf(flow.request.url), depth: 0, origin: 'http', flow });
  }
  if (flow.response && flow.response.body.bytes.length > 0 && !grpc) {
    views.push({ bytes: flow.response.body.bytes, path: ['body'], direction: 'response', contentType: mediaType(headerValue(flow.response.headers, 'content-type')), headers: flow.response.headers, depth: 0, origin: 'http', flow });
  }
  let webSocketIndex = 0;
  let grpcIndex = 0;
  for (const message of flow.messages ?? []) {
    const direction = message.fromClient ? 'request' : 'response';
    if (message.protocol === 'websocket') {
      views.push({ bytes: message.data, path: [`websocket:message[${webSocketIndex++}]`], direction, depth: 0, origin: 'websocket', flow });
    } else {
      // A compressed message says so the way a body would, so the content-encoding decoder opens it.
      const headers: Array<[string, string]> = message.compressed ? [['content-encoding', message.encoding ?? 'gzip']] : [];
      views.push({ bytes: message.data, path: [`grpc:message[${grpcIndex++}]`], direction, contentType: 'application/x-protobuf', headers, depth: 0, origin: 'http', flow });
    }
  }
  if (flow.stream) {
    if (flow.stream.up.bytes.length > 0) views.push({ bytes: flow.stream.up.bytes, path: ['stream:up'], direction: 'request', depth: 0, origin: 'stream', flow });
    if (flow.stream.down.bytes.length > 0) views.push({ bytes: flow.stream.down.bytes, path: ['stream:down'], direction: 'response', depth: 0, origin: 'stream', flow });
  }
  return views;
}
