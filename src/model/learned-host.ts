// A host the proxy learned to tunnel without decryption during a run (its client refused our
// certificate, or its server asked for a client certificate): decided in src/proxy/passthrough.ts,
// listed in summary.json and rebuilt by recover, so it lives here where all three can read it.

export interface LearnedHost {
  readonly host: string;
  readonly time: string;
  readonly reason: string;
  /**
   * Absent for a pinning client (files of earlier runs have none either). `invalid-certificate`:
   * the device refused a leaf as invalid as its server's certificate, as it would have refused that.
   */
  readonly kind?: 'client-certificate' | 'invalid-certificate';
}
