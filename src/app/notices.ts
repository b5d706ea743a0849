// What a person running phonehome must hear about, in one line each, without drowning in
// repeats: a server whose certificate could not be verified (with the option that fixes it), a
// name that did not resolve, an unreachable server, a client refused by --allow-client, a host
// that refused our certificate (pinned). Each (kind, host) is said once a minute at most, with a
// count of the repeats in between. The console and the terminal UI's event log both listen.

import type { EventBus } from '../flow/events.js';
import type { Flow } from '../model/flow.js';
import { flowHost } from '../model/flow.js';

export interface NoticeOptions {
  readonly intervalMs: number;
  readonly now?: () => number;
}

type Kind = 'upstream-certificate' | 'accepted-invalid-certificate' | 'upstream-tls-version' | 'upstream-tls-refused' | 'dns' | 'unreachable' | 'refused-client' | 'pinned';

/** One line for a failed flow, or nothing when its failure is not one a person can act on. Read from the flow's `upstream:` tag, made where the error happened. */
export function noticeForFlow(flow: Flow): { kind: Kind; key: string; line: string } | undefined {
  const accepted = flow.tags.find((t) => t.startsWith(ACCEPTED_INVALID));
  if (accepted) {
    const where = `${flowHost(flow)}:${flow.target.port}`;
    return { kind: 'accepted-invalid-certificate', key: flowHost(flow), line: `${where}: the device accepted a certificate as invalid as its server's (${accepted.slice(ACCEPTED_INVALID.length)}): it does not check certificates there; its traffic is decrypted and goes on to the server unchecked, as its own would have` };
  }
  const tag = flow.tags.find((t) => t.startsWith('upstream:'));
  if (!tag || flow.kind === 'rejected') return undefined;
  const host = flowHost(flow);
  const where = `${host}:${flow.target.port}`;
  const code = tag.slice('upstream:'.length);
  if (code.startsWith('certificate:')) {
    const outcome = flow.tags.includes('tls:refused-invalid-certificate')
      ? 'the device was shown one as invalid and refused it, as it would have refused the server\'s; its connections pass through from now on'
      : 'the device got 502';
    return { kind: 'upstream-certificate', key: host, line: `${where}: the server's certificate could not be verified (${code.slice('certificate:'.length)}); ${outcome}. A lab server? Trust its CA with --upstream-ca FILE (or --insecure-upstream, stated in every output)` };
  }
  if (flow.tags.includes('tls:server-refused')) {
    const alert = flow.tags.find((t) => t.startsWith(SERVER_ALERT))?.slice(SERVER_ALERT.length);
    const how = alert !== undefined ? `alert ${alert}` : flow.tags.includes('tls:server-reset') ? 'a reset' : flow.tags.includes('tls:server-silent') ? 'no answer' : 'a close without a word';
    const older = code === 'tls-version' ? '. An old lab server that speaks only TLS older than the device? --upstream-tls-min 1.0 bridges them' : '';
    return { kind: 'upstream-tls-refused', key: host, line: `${where}: the server refused the device's TLS offer (${how}); the device met the same, as it would have directly${older}` };
  }
  if (code === 'tls-version') return { kind: 'upstream-tls-version', key: host, line: `${where}: the server speaks only TLS older than 1.2; the device got 502. An old lab server? Run with --upstream-tls-min 1.0` };
  if (code === 'dns') return { kind: 'dns', key: host, line: `${host}: the name did not resolve (DNS); the device got an error` };
  if (UNREACHABLE.has(code)) return { kind: 'unreachable', key: where, line: `${where}: could not be reached (${code})` };
  return undefined;
}

/** The tag of a flow whose server refused the device's TLS offer, with the alert's number (tls-layer.ts). */
const SERVER_ALERT = 'tls:server-alert-';

/** The tag of a flow whose device accepted a leaf as invalid as its server's certificate (tls-layer.ts). */
const ACCEPTED_INVALID = 'tls:accepted-invalid-certificate:';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

export class Notices {
  readonly #say: (line: string) => void;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(bus: EventBus, say: (line: string) => void, options: NoticeOptions) {
    this.#say = say;
    this.#intervalMs = options.intervalMs;
    this.#now = options.now ?? Date.now;
    bus.listen('flow:end', 'notices', (flow) => {
      const notice = noticeForFlow(flow);
      if (notice) this.#notice(`${notice.kind}|${notice.key}`, notice.line);
    });
    bus.listen('tls:failed', 'notices', (failure) => {
      const name = failure.sni ?? failure.host;
      this.#notice(`pinned|${name}`, `${name}:${failure.port} refused phonehome's certificate (${failure.reason}): the app pins its certificates, or the CA is not installed on the device${failure.learnedPassthrough ? '; its traffic now passes through undecrypted' : ''}`);
    });
    bus.listen('client:refused', 'notices', (refusal) => {
      this.#notice(`refused-client|${refusal.ip}`, `refused client ${refusal.ip}: not in the allowed ranges (loopback, private networks, --allow-client)`);
    });
  }

  #notice(key: string, line: string): void {
    const now = this.#now();
    const last = this.#last.get(key);
    if (last && now - last.at < this.#intervalMs) {
      last.suppressed++;
      return;
    }
    const repeats = last?.suppressed ? ` (${last.suppressed} more like it in the last minute)` : '';
    this.#last.set(key, { at: now, suppressed: 0 });
    if (this.#last.size > 10_000) this.#last.delete(this.#last.keys().next().value!);
    this.#say(`${line}${repeats}`);
  }
}
