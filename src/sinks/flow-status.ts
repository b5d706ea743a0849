// The one-word status a flow is listed with, by the console and the terminal UI alike.

import type { Flow } from '../model/flow.js';

/** The response's status code, a DNS answer's code (`NOERROR`, `NXDOMAIN`), else `ERR` when it failed and `-` when not. */
export function flowStatus(flow: Flow): string {
  const failed = flow.error ? 'ERR' : '-';
  switch (flow.kind) {
    case 'http':
    case 'websocket':
    case 'rejected': return flow.response ? String(flow.response.status) : failed;
    case 'dns': return flow.dns.rcode ?? failed;
    case 'raw':
    case 'tunnel':
    case 'tls-failed': return failed;
  }
}
