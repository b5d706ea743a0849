// DNS over UDP read back from a capture file: each query paired with its answer (same id, same two
// endpoints) and worded as the live DNS listener words it (dns-records.ts), so a capture file's DNS
// becomes the same `dns` flows a live run records. Queries never answered are handed on unanswered.

import dnsPacket, { type DecodedPacket } from 'dns-packet';
import type { DnsRecord, Endpoint } from '../model/flow.js';
import { answersOf, questionOf } from '../proxy/dns/dns-records.js';

export interface RecordedDns {
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly dns: DnsRecord;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly tags: readonly string[];
}

interface PendingQuery {
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly time: string;
  readonly message: DecodedPacket | undefined;
  readonly bytes: number;
}

/** Queries waiting for their answer; past this many, the oldest is handed on unanswered. */
const maxPending = 10_000;

export class DnsExchanges {
  readonly #pending = new Map<string, PendingQuery>();
  readonly #onExchange: (exchange: RecordedDns) => void;
  #count = 0;

  constructor(onExchange: (exchange: RecordedDns) => void) {
    this.#onExchange = onExchange;
  }

  get count(): number {
    return this.#count;
  }

  datagram(source: Endpoint, destination: Endpoint, time: string, payload: Buffer): void {
    let message: DecodedPacket | undefined;
    try {
      message = dnsPacket.decode(payload);
    } catch {
      message = undefined;
    }
    const isResponse = message?.flag_qr === true;
    const id = message?.id ?? -1;
    if (!isResponse) {
      const key = keyOf(source, destination, id);
      const repeated = this.#pending.get(key);
      if (repeated) this.#emit(repeated, undefined, repeated.time, 0);
      this.#pending.set(key, { client: source, server: destination, time, message, bytes: payload.length });
      if (this.#pending.size > maxPending) {
        const [oldestKey, oldest] = this.#pending.entries().next().value as [string, PendingQuery];
        this.#pending.delete(oldestKey);
        this.#emit(oldest, undefined, oldest.time, 0);
      }
      return;
    }
    const key = keyOf(destination, source, id);
    const query = this.#pending.get(key);
    this.#pending.delete(key);
    // An answer whose query is not in the file (the capture began after it): recorded from the answer.
    this.#emit(query ?? { client: destination, server: source, time, message, bytes: 0 }, message, time, payload.length);
  }

  finish(): void {
    for (const query of this.#pending.values()) this.#emit(query, undefined, query.time, 0);
    this.#pending.clear();
  }

  #emit(query: PendingQuery, answer: DecodedPacket | undefined, time: string, answerBytes: number): void {
    this.#count++;
    const question = (query.message && questionOf(query.message)) ?? (answer && questionOf(answer));
    const tags: string[] = [];
    if (!question) tags.push('dns:malformed');
    if (!answer) tags.push('dns:no-answer');
    this.#onExchange({
      client: query.client,
      server: query.server,
      startedAt: query.time,
      endedAt: time,
      dns: {
        name: question?.name ?? '',
        ...(question?.asked ? { asked: question.asked } : {}),
        type: question?.type ?? '',
        ...(answer ? { rcode: (answer as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR' } : {}),
        answers: answer ? answersOf(answer) : [],
        upstream: `${query.server.ip.includes(':') ? `[${query.server.ip}]` : query.server.ip}:${query.server.port}`,
      },
      bytesUp: query.bytes,
      bytesDown: answerBytes,
      tags,
    });
  }
}

function keyOf(client: Endpoint, server: Endpoint, id: number): string {
  return `${client.ip}|${client.port}|${server.ip}|${server.port}|${id}`;
}
