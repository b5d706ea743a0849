// What a WebSocket handshake offers and what was accepted, carried from one side to the other so
// that the server sees the device's own offer and the device is told the server's own answer:
// subprotocols, and permessage-deflate (RFC 7692) with its parameters. Pure functions over header
// values; the parsing is ws's own (its ESM entry exports `extension` and `subprotocol`, which its
// type definitions leave out).

import * as wsModule from 'ws';
import type { PerMessageDeflateOptions } from 'ws';

type ExtensionParams = Record<string, Array<string | true>>;

const { extension, subprotocol } = wsModule as unknown as {
  extension: { parse(header: string): Record<string, ExtensionParams[]> };
  subprotocol: { parse(header: string): Set<string> };
};

const DEFLATE = 'permessage-deflate';

/**
 * The permessage-deflate offer to make upstream, as ws client options, from the device's
 * Sec-WebSocket-Extensions: its first deflate offer that ws can express exactly; `false` (offer
 * none) when it made none or none ws can express (an unknown parameter, a repeated one). Other
 * extensions are not offered: ws speaks only this one. Throws on a header that does not parse.
 */
export function upstreamDeflateOffer(header: string | undefined): PerMessageDeflateOptions | false {
  if (header === undefined) return false;
  for (const params of extension.parse(header)[DEFLATE] ?? []) {
    const options = deflateOptions(params);
    if (options) return options;
  }
  return false;
}

function deflateOptions(params: ExtensionParams): PerMessageDeflateOptions | undefined {
  const options: { serverNoContextTakeover?: boolean; clientNoContextTakeover?: boolean; serverMaxWindowBits?: number; clientMaxWindowBits: number | boolean } = {
    // ws offers a bare client_max_window_bits unless told false; the device may not have offered it.
    clientMaxWindowBits: false,
  };
  for (const [name, values] of Object.entries(params)) {
    if (values.length !== 1) return undefined;
    const value = values[0];
    if (name === 'server_no_context_takeover' && value === true) options.serverNoContextTakeover = true;
    else if (name === 'client_no_context_takeover' && value === true) options.clientNoContextTakeover = true;
    else if (name === 'server_max_window_bits' && windowBits(value) !== undefined) options.serverMaxWindowBits = windowBits(value);
    else if (name === 'client_max_window_bits' && (value === true || windowBits(value) !== undefined)) options.clientMaxWindowBits = value === true ? true : windowBits(value)!;
    else return undefined;
  }
  // An absent *_no_context_takeover stays undefined, not false: ws would refuse a server that
  // adds client_no_context_takeover on its own, which RFC 7692 allows.
  return options as PerMessageDeflateOptions;
}

function windowBits(value: string | true | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,2}$/.test(value)) return undefined;
  const bits = Number(value);
  return bits >= 8 && bits <= 15 ? bits : undefined;
}

/**
 * The server's answer (its Sec-WebSocket-Extensions) as the only offer the device-side ws server
 * reads: ws answers a device with the offer it accepts, its hints included, so handing it the
 * server's accepted parameters makes the device hear exactly those. Undefined when the server
 * accepted no compression.
 */
export function acceptedDeflate(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return /^\s*permessage-deflate\b/i.test(header) ? header : undefined;
}

/** The subprotocols the device offered, in its order. Throws on a header that does not parse. */
export function offeredProtocols(header: string | undefined): string[] {
  return header === undefined ? [] : [...subprotocol.parse(header)];
}
