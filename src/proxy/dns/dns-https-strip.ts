// HTTPS and SVCB records (RFC 9460) are taken out of the answers the device gets. They carry ECH
// keys (a device with them hides the real server name inside an encrypted ClientHello, so the
// flows lose their names) and `alpn=h3` hints (a device with them tries QUIC, which the WireGuard
// mode drops, and waits for it first). This is a deliberate change of what the device sees, asked for
// by issue #20; the flow records how many records went. Without them the device does what it does
// with a resolver that knows no HTTPS records: A/AAAA and TCP.

import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';
import { isServiceBinding } from './dns-records.js';

export interface StrippedMessage {
  /** The message for the device: the very bytes received when nothing was stripped. */
  readonly message: Buffer;
  /** HTTPS/SVCB records removed (signatures over them go too, and are not counted). */
  readonly stripped: number;
}

/**
 * `bytes` (decoded as `decoded`) without its HTTPS and SVCB records in any section. Nothing to
 * remove: the same buffer, untouched. Otherwise the message is encoded again by dns-packet with the
 * same id, flags (response code included), questions and the other records in their order. The new
 * message has no name compression, so it can be longer than the original: a UDP caller checks that
 * it still fits the device's buffer (see `truncatedResponse`).
 */
export function withoutServiceBindings(bytes: Buffer, decoded: DecodedPacket): StrippedMessage {
  let stripped = 0;
  const keep = (records: Answer[] | undefined): Answer[] => {
    const kept: Answer[] = [];
    for (const record of records ?? []) {
      if (isServiceBinding(record.type)) {
        stripped++;
        continue;
      }
      // A DNSSEC signature over the removed set would sign nothing the message holds.
      if (record.type === 'RRSIG' && isServiceBinding(record.data.typeCovered)) continue;
      kept.push(record);
    }
    return kept;
  };
  const answers = keep(decoded.answers);
  const authorities = keep(decoded.authorities);
  const additionals = keep(decoded.additionals);
  if (stripped === 0) return { message: bytes, stripped: 0 };
  const message = dnsPacket.encode({ id: decoded.id ?? 0, type: 'response', flags: decoded.flags ?? 0, questions: decoded.questions ?? [], answers, authorities, additionals });
  return { message, stripped };
}

/**
 * The answer for a device whose UDP buffer a message does not fit: the header and question with
 * TC (truncated) set and no records, which tells the device to ask again over TCP (RFC 1035 4.2.1,
 * RFC 7766) — what a server does with an answer too long for UDP.
 */
export function truncatedResponse(decoded: DecodedPacket): Buffer {
  return dnsPacket.encode({ id: decoded.id ?? 0, type: 'response', flags: (decoded.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, questions: decoded.questions ?? [], answers: [], authorities: [], additionals: [] });
}

/** The largest UDP answer a query's sender takes: its EDNS buffer size, else the classic 512 bytes. */
export function udpAnswerLimit(query: DecodedPacket | undefined): number {
  const opt = query?.additionals?.find((record) => record.type === 'OPT');
  const size = opt && 'udpPayloadSize' in opt ? opt.udpPayloadSize : 0;
  return Math.max(512, Math.min(size || 512, 65_535));
}
