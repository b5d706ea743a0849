// The installed command gives V8 --initial-old-space-size=32 (bin/phonehome.js says why: an upload's
// TLS records pushed the proxy thread into a full collection every ~60 ms). V8 reads the flag
// whenever it creates an isolate, so a worker thread started later would get the floor too. The
// inspection worker never sees those records, only captured bodies in shared memory, and with the
// floor its garbage could grow to 32 MB before V8 collected it. Clearing the flag once the proxy
// thread's heap exists leaves that heap as it is and gives later isolates V8's own limits.

import v8 from 'node:v8';

let cleared = false;

/** Later isolates (worker threads) start without the old generation's floor. */
export function clearOldGenerationFloorForNewIsolates(): void {
  if (cleared) return;
  cleared = true;
  try {
    v8.setFlagsFromString('--initial-old-space-size=0');
  } catch {
    // a V8 that freezes its flags: the worker keeps the floor, which costs memory, not findings
  }
}
