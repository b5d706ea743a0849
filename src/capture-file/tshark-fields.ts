// What phonehome asks tshark for, one line per TCP or DNS-over-UDP frame (`-T fields`), and how a
// line is read back. The field list is the contract between tshark and the session assembler: TCP
// framing, the TLS handshake facts, the decrypted application data, and the DNS datagram itself.

/** The fields, in the order tshark prints them. */
export const frameFields = [
  'frame.time_epoch',
  'tcp.stream',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags',
  'tcp.len',
  'tcp.analysis.retransmission',
  'tcp.analysis.lost_segment',
  'tcp.payload',
  'tls.record.content_type',
  // TLS 1.3 records seen without keys: their outer type (application_data) only.
  'tls.record.opaque_type',
  'tls.handshake.type',
  'tls.handshake.extensions_server_name',
  'tls.handshake.extensions_alpn_str',
  'tls.handshake.version',
  'tls.handshake.extensions.supported_version',
  'tls.handshake.ciphersuite',
  // Decrypted TLS records reach the `data` dissector because the application dissectors are off
  // (see tsharkArguments): one occurrence per record, in the order they passed.
  'data.data',
  'udp.srcport',
  'udp.dstport',
  'udp.payload',
] as const;

/** Between the occurrences of one field in a frame: a character no field value here contains. */
export const occurrenceSeparator = ';';

type FieldName = (typeof frameFields)[number];

export interface FrameLine {
  /** All occurrences of a field in the frame (empty when absent). */
  all(field: FieldName): string[];
  /** The last occurrence: the innermost header when a frame is tunnelled. */
  last(field: FieldName): string | undefined;
  first(field: FieldName): string | undefined;
  has(field: FieldName): boolean;
}

const indexOf = new Map<string, number>(frameFields.map((name, index) => [name, index]));

export function parseFrameLine(line: string): FrameLine {
  const values = line.split('\t');
  const raw = (field: FieldName): string => values[indexOf.get(field)!] ?? '';
  return {
    all: (field) => {
      const text = raw(field);
      return text === '' ? [] : text.split(occurrenceSeparator);
    },
    last: (field) => {
      const text = raw(field);
      if (text === '') return undefined;
      const at = text.lastIndexOf(occurrenceSeparator);
      return at < 0 ? text : text.slice(at + 1);
    },
    first: (field) => {
      const text = raw(field);
      if (text === '') return undefined;
      const at = text.indexOf(occurrenceSeparator);
      return at < 0 ? text : text.slice(0, at);
    },
    has: (field) => raw(field) !== '',
  };
}
