// The TLS facts a flow records (`tls` in the flow, `_phonehome.tls` in the HAR): which version and
// cipher suite each side spoke. "Three hosts reached over TLS 1.0" is itself worth reading.

import type { TlsRecord } from '../model/flow.js';
import type { ConnectionContext } from './context.js';

export function tlsRecordOf(context: ConnectionContext): TlsRecord | undefined {
  const facts = context.tls;
  if (!facts?.version) return undefined;
  return {
    client: { version: facts.version, ...(facts.cipher ? { cipher: facts.cipher } : {}) },
    ...(facts.upstreamVersion ? { server: { version: facts.upstreamVersion, ...(facts.upstreamCipher ? { cipher: facts.upstreamCipher } : {}) } } : {}),
  };
}

/** The same, as the optional field of an exchange's context or route. */
export function tlsRecordFor(context: ConnectionContext): { tlsRecord?: TlsRecord } {
  const record = tlsRecordOf(context);
  return record ? { tlsRecord: record } : {};
}
