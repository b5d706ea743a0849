// Address helpers shared by the stages that see client and server addresses.

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; this gives a.b.c.d back. */
export function unmapIpv4(address: string): string {
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
}
