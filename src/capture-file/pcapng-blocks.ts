// The pcapng blocks phonehome writes (our own small encoder: npm has readers and a libpcap binding,
// no maintained pcapng writer): a Section Header Block opens each run session, one Interface
// Description Block says the packets are raw IP, Enhanced Packet Blocks carry them, and Decryption
// Secrets Blocks carry TLS key log lines so Wireshark opens the file already decrypted. Every
// block is one Buffer, little-endian (the byte-order magic says so to readers), padded to 32 bits,
// with its total length at both ends — a reader that meets a cut-off block stops before it.
//
// Raw IP (LINKTYPE_RAW, 101) rather than Ethernet: we have no real MAC addresses to give, IPv4 and
// IPv6 packets live on the same interface (the version nibble tells them apart), and each packet
// is 14 bytes smaller.

export const LINKTYPE_RAW = 101;

const SECTION_HEADER = 0x0a0d0d0a;
const INTERFACE_DESCRIPTION = 0x00000001;
const ENHANCED_PACKET = 0x00000006;
const DECRYPTION_SECRETS = 0x0000000a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Decryption Secrets Block: the secrets are an NSS key log ("TLSK"). */
export const SECRETS_TLS_KEY_LOG = 0x544c534b;

const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USER_APPLICATION = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;

/** The smallest block a file holds (a block with no body): type, two lengths. */
export const MIN_BLOCK_BYTES = 12;

function padded(length: number): number {
  return (length + 3) & ~3;
}

interface BlockOption {
  readonly code: number;
  readonly value: Buffer;
}

function optionsLength(options: readonly BlockOption[]): number {
  if (options.length === 0) return 0;
  let n = 4; // opt_endofopt
  for (const option of options) n += 4 + padded(option.value.length);
  return n;
}

function writeOptions(out: Buffer, at: number, options: readonly BlockOption[]): number {
  if (options.length === 0) return at;
  for (const option of options) {
    out.writeUInt16LE(option.code, at);
    out.writeUInt16LE(option.value.length, at + 2);
    option.value.copy(out, at + 4);
    at += 4 + padded(option.value.length);
  }
  out.writeUInt16LE(OPT_END, at);
  out.writeUInt16LE(0, at + 2);
  return at + 4;
}

/** A block: type, total length, `body` (already padded), options, total length again. */
function block(type: number, bodyLength: number, options: readonly BlockOption[], fill: (out: Buffer, at: number) => void): Buffer {
  const total = 8 + bodyLength + optionsLength(options) + 4;
  const out = Buffer.alloc(total);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(total, 4);
  fill(out, 8);
  writeOptions(out, 8 + bodyLength, options);
  out.writeUInt32LE(total, total - 4);
  return out;
}

function textOptions(entries: ReadonlyArray<readonly [number, string | undefined]>): BlockOption[] {
  return entries.filter((entry): entry is readonly [number, string] => entry[1] !== undefined && entry[1] !== '').map(([code, text]) => ({ code, value: Buffer.from(text, 'utf8') }));
}

/** Opens a section (one per run session); its length is left unknown (-1), as a file still being written must. */
export function sectionHeaderBlock(options: { application?: string; comment?: string } = {}): Buffer {
  return block(SECTION_HEADER, 16, textOptions([[OPT_COMMENT, options.comment], [SHB_USER_APPLICATION, options.application]]), (out, at) => {
    out.writeUInt32LE(BYTE_ORDER_MAGIC, at);
    out.writeUInt16LE(1, at + 4); // major version
    out.writeUInt16LE(0, at + 6); // minor version
    out.writeBigInt64LE(-1n, at + 8); // section length: not known
  });
}

/** The section's interface: raw IP packets, no snap length, timestamps in microseconds. */
export function interfaceDescriptionBlock(options: { name?: string; linkType?: number } = {}): Buffer {
  const opts = [...textOptions([[IF_NAME, options.name]]), { code: IF_TSRESOL, value: Buffer.from([6]) }];
  return block(INTERFACE_DESCRIPTION, 8, opts, (out, at) => {
    out.writeUInt16LE(options.linkType ?? LINKTYPE_RAW, at);
    out.writeUInt16LE(0, at + 2); // reserved
    out.writeUInt32LE(0, at + 4); // snap length: none
  });
}

/** One packet, captured whole, on interface `interfaceId`, at `timeUs` microseconds since the epoch. */
export function enhancedPacketBlock(packet: Buffer, timeUs: number, interfaceId = 0): Buffer {
  return block(ENHANCED_PACKET, 20 + padded(packet.length), [], (out, at) => {
    const time = BigInt(Math.max(0, Math.floor(timeUs)));
    out.writeUInt32LE(interfaceId, at);
    out.writeUInt32LE(Number(time >> 32n), at + 4);
    out.writeUInt32LE(Number(time & 0xffffffffn), at + 8);
    out.writeUInt32LE(packet.length, at + 12); // captured
    out.writeUInt32LE(packet.length, at + 16); // original
    packet.copy(out, at + 20);
  });
}

/** TLS secrets (NSS key log lines, newline-terminated) for the packets that follow it. */
export function decryptionSecretsBlock(keyLog: Buffer, secretsType = SECRETS_TLS_KEY_LOG): Buffer {
  return block(DECRYPTION_SECRETS, 8 + padded(keyLog.length), [], (out, at) => {
    out.writeUInt32LE(secretsType, at);
    out.writeUInt32LE(keyLog.length, at + 4);
    keyLog.copy(out, at + 8);
  });
}

/**
 * Where the whole blocks of a little-endian pcapng file end: a file cut in the middle of a block
 * (a power cut, a full disk) is whole up to there. Reads only the block headers.
 */
export function wholeBlocksEnd(readAt: (position: number, length: number) => Buffer | undefined, size: number): number {
  let at = 0;
  while (at + MIN_BLOCK_BYTES <= size) {
    const head = readAt(at, 8);
    if (!head || head.length < 8) break;
    const type = head.readUInt32LE(0);
    const length = head.readUInt32LE(4);
    if (at === 0 && type !== SECTION_HEADER) break;
    if (length < MIN_BLOCK_BYTES || length % 4 !== 0 || at + length > size) break;
    const tail = readAt(at + length - 4, 4);
    if (!tail || tail.length < 4 || tail.readUInt32LE(0) !== length) break;
    at += length;
  }
  return at;
}

/** Several packets as one run of Enhanced Packet Blocks (one write), a microsecond apart from `timeUs`. */
export function enhancedPacketBlocks(packets: readonly Buffer[], timeUs: number, interfaceId = 0): Buffer {
  // The same bytes as enhancedPacketBlock for each, written into one buffer: no copy per block,
  // no concatenation (this is the hot path of opaque.pcapng).
  let total = 0;
  for (const packet of packets) total += 32 + padded(packet.length);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  packets.forEach((packet, i) => {
    const length = 32 + padded(packet.length);
    const time = BigInt(Math.max(0, Math.floor(timeUs + i)));
    out.writeUInt32LE(ENHANCED_PACKET, at);
    out.writeUInt32LE(length, at + 4);
    out.writeUInt32LE(interfaceId, at + 8);
    out.writeUInt32LE(Number(time >> 32n), at + 12);
    out.writeUInt32LE(Number(time & 0xffffffffn), at + 16);
    out.writeUInt32LE(packet.length, at + 20);
    out.writeUInt32LE(packet.length, at + 24);
    packet.copy(out, at + 28);
    out.fill(0, at + 28 + packet.length, at + length - 4); // padding
    out.writeUInt32LE(length, at + length - 4);
    at += length;
  });
  return out;
}

