// Address helpers shared by the stages that see client and server addresses.

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; this gives a.b.c.d back. */
export function unmapIpv4(address: string): string {
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
}

/**
 * An IPv6 address in one spelling: compressed and lower-case (RFC 5952, as the URL parser writes it),
 * whatever form it came in (`2620:00fe:0:0:0:0:0:fe` and `2620:fe::fe` alike); lower-cased only when
 * the parser refuses it (a zone, `%eth0`).
 */
export function compressedIpv6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase();
  }
}

/** 16 bytes of an IPv6 address, IPv4-mapped (`::ffff:a.b.c.d`) included; a zone (`%eth0`) is dropped. */
export function ipv6Bytes(address: string): Buffer {
  const text = address.replace(/%.*$/, '');
  const out = Buffer.alloc(16);
  let groups: number[];
  const lastColon = text.lastIndexOf(':');
  let tail: number[] = [];
  let head = text;
  if (text.includes('.')) {
    // An embedded IPv4 address fills the last two groups.
    const v4 = ipv4Bytes(text.slice(lastColon + 1));
    tail = [v4.readUInt16BE(0), v4.readUInt16BE(2)];
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const gap = head.indexOf('::');
  if (gap >= 0) {
    const left = parse(head.slice(0, gap));
    const right = [...parse(head.slice(gap + 2)), ...tail];
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    groups = [...parse(head), ...tail];
  }
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) throw new Error(`not an IPv6 address: ${address}`);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

export function ipv4Bytes(address: string): Buffer {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return Buffer.from(parts);
}
