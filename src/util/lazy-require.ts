// A CommonJS package loaded the first time it is used, not when the module that uses it loads.
// The inspection's decoders run in two threads (the proxy's, for small flows, and the inspection
// worker); loading the libraries behind the rare layers (SQLite, zstd, zip, MessagePack, image
// metadata) and the QR code library in both at start cost an idle capture about 4-6 MB of resident
// memory that most runs never use (issue #24).
// Only for packages whose `require` gives what an ESM import of them gives (all CommonJS here:
// their default import is module.exports, their named imports its properties).

import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** `() => require(name)`, loaded once on the first call. */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= load(name) as T;
    return loaded;
  };
}
