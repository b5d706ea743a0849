// The layers of a flow that detectors look at. Today: each body, WebSocket message and raw stream
// as it was captured; the decode chain (issue #3) will add decoded layers beneath each of these.

import { headerValue, type Flow } from '../flow/flow.js';
import type { View } from './detect/detector.js';

function mediaType(value: string | undefined): string | undefined {
  return value?.split(';')[0]?.trim().toLowerCase() || undefined;
}

export function viewsOf(flow: Flow): View[] {
  const views: View[] = [];
  if (flow.request && flow.request.body.bytes.length > 0) {
    views.push({ bytes: flow.request.body.bytes, path: ['body'], direction: 'request', contentType: mediaType(headerValue(flow.request.headers, 'content-type')), flow });
  }
  if (flow.response && flow.response.body.bytes.length > 0) {
    views.push({ bytes: flow.response.body.bytes, path: ['body'], direction: 'response', contentType: mediaType(headerValue(flow.response.headers, 'content-type')), flow });
  }
  flow.webSocketMessages?.forEach((message, index) => {
    views.push({ bytes: message.data, path: [`websocket:message[${index}]`], direction: message.fromClient ? 'request' : 'response', flow });
  });
  if (flow.stream) {
    if (flow.stream.up.bytes.length > 0) views.push({ bytes: flow.stream.up.bytes, path: ['stream:up'], direction: 'request', flow });
    if (flow.stream.down.bytes.length > 0) views.push({ bytes: flow.stream.down.bytes, path: ['stream:down'], direction: 'response', flow });
  }
  return views;
}
