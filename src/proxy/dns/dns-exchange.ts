// One DNS question and its answer as phonehome passes them on: what the device gets of the
// upstream's answer (HTTPS/SVCB records removed: dns-https-strip.ts says why), and the `dns` flow
// that records the exchange. Shared by the DNS listener (devices that ask phonehome) and the SOCKS5
// UDP relay (devices whose VPN app sends their DNS to a resolver of their own through phonehome).
// Pure.

import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { newFlowId, type CaptureMode, type DnsAnswer, type Endpoint, type Flow } from '../../model/flow.js';
import { limits } from '../../limits.js';
import { answersOf, questionOf } from './dns-records.js';
import { truncatedResponse, udpAnswerLimit, withoutServiceBindings } from './dns-https-strip.js';

export type DnsTransport = 'udp' | 'tcp';

/** What the device gets of an upstream answer, and what it came to. */
export interface DeviceAnswer {
  readonly bytes: Buffer;
  readonly rcode?: string;
  readonly answers?: DnsAnswer[];
  /** HTTPS/SVCB records removed. */
  readonly stripped: number;
  readonly error?: string;
  readonly tags: string[];
  /** Why the answer went as it came although records were to be removed. */
  readonly stripFailure?: string;
}

/** The upstream's answer, for the device: unchanged, or without its HTTPS/SVCB records. */
export function deviceAnswer(bytes: Buffer, query: DecodedPacket | undefined, transport: DnsTransport): DeviceAnswer {
  let decoded: DecodedPacket;
  try {
    decoded = dnsPacket.decode(bytes);
  } catch (error) {
    // dns-packet cannot read it, so it cannot be stripped either: it goes as it came.
    return { bytes, stripped: 0, error: `the answer could not be read: ${(error as Error).message}`, tags: ['dns:answer-malformed'] };
  }
  const tags: string[] = [];
  let toDevice = bytes;
  let stripped = 0;
  let stripFailure: string | undefined;
  try {
    const result = withoutServiceBindings(bytes, decoded);
    toDevice = result.message;
    stripped = result.stripped;
  } catch (error) {
    tags.push('dns:strip-failed');
    stripFailure = (error as Error).message;
  }
  if (stripped > 0) {
    tags.push('dns:stripped-https');
    decoded = dnsPacket.decode(toDevice);
    if (toDevice.length > (transport === 'udp' ? udpAnswerLimit(query) : limits.dnsMaxTcpMessageBytes)) {
      // Encoded again without name compression, it no longer fits the device's buffer or TCP's length field.
      toDevice = truncatedResponse(decoded);
      decoded = dnsPacket.decode(toDevice);
    }
  }
  if (decoded.flag_tc) tags.push('dns:truncated');
  return { bytes: toDevice, rcode: (decoded as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR', answers: answersOf(decoded), stripped, tags, ...(stripFailure ? { stripFailure } : {}) };
}

/** One query and what came of it, as a flow needs them. */
export interface DnsExchange {
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly client: Endpoint;
  /** Absent: a device that asked phonehome itself. */
  readonly mode?: CaptureMode;
  /** Where the device sent its query. */
  readonly target: { readonly host: string; readonly port: number };
  /** Where phonehome forwarded it. */
  readonly upstream: { readonly ip: string; readonly port: number };
  readonly query: DecodedPacket | undefined;
  readonly queryBytes: number;
  readonly answerBytes: number;
  readonly rcode?: string;
  readonly answers?: DnsAnswer[];
  readonly stripped?: number;
  readonly error?: string;
  readonly tags: readonly string[];
}

export function dnsFlow(exchange: DnsExchange): Flow {
  const question = exchange.query ? questionOf(exchange.query) : undefined;
  const { ip, port } = exchange.upstream;
  return {
    id: newFlowId(),
    kind: 'dns',
    startedAt: exchange.startedAt.toISOString(),
    endedAt: exchange.endedAt.toISOString(),
    durationMs: exchange.endedAt.getTime() - exchange.startedAt.getTime(),
    client: exchange.client,
    ...(exchange.mode ? { mode: exchange.mode } : {}),
    target: exchange.target,
    scheme: 'dns',
    destination: { ip, port },
    dns: {
      name: question?.name ?? '',
      ...(question?.asked ? { asked: question.asked } : {}),
      type: question?.type ?? '',
      ...(exchange.rcode !== undefined ? { rcode: exchange.rcode } : {}),
      answers: exchange.answers ?? [],
      ...(exchange.stripped ? { stripped: exchange.stripped } : {}),
      upstream: `${ip.includes(':') ? `[${ip}]` : ip}:${port}`,
    },
    bytesUp: exchange.queryBytes,
    bytesDown: exchange.answerBytes,
    ...(exchange.error ? { error: exchange.error } : {}),
    tags: [...exchange.tags],
  };
}
