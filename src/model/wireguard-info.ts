// What a running WireGuard endpoint tells the front ends (console banner, terminal UI, install
// page): where the phone connects and, per configured peer, its tunnel address and the
// configuration file the phone imports (as text, which the QR code encodes).

export interface WireguardClientInfo {
  /** The peer's name (`--wireguard-client`), e.g. `phone`. */
  readonly name: string;
  /** The peer's address inside the tunnel, e.g. `10.64.77.2`. */
  readonly address: string;
  /** The phone's configuration in wg-quick format ([Interface] with its private key, [Peer] us). */
  readonly config: string;
}

export interface WireguardInfo {
  /** The tunnel's network interface on this machine, e.g. `phonehome-wg`. */
  readonly interfaceName: string;
  /** `HOST:PORT` the phones' configurations point at. */
  readonly endpoint: string;
  /** Our address inside the tunnel: the phones' DNS server and gateway. */
  readonly gateway: string;
  readonly clients: readonly WireguardClientInfo[];
}
