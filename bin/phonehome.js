#!/usr/bin/env -S node --max-semi-space-size=2
// The `phonehome` command as installed (package.json bin): dist/cli.js with V8's nursery capped.
// A semi-space of 2 MB instead of V8's 16 MB maximum: the nursery grew to its maximum while the
// modules loaded (before any of our code could hold it back; V8 sizes it only from the command
// line) and an idle capture kept it resident, as a busy one kept 32 MB of it. Measured on the
// shared 2-core box, same command back to back (scripts/profile-capture.mjs, 3 rounds): idle RSS
// 141-150 -> 124-139 MB, after 8 s of small requests 196-201 -> 166-182 MB, CPU per small request
// unchanged within the noise (347-377 against 357-372 us); 1 MB cost more CPU in the collector's
// threads (369-410 us), 4 and 8 MB saved little memory. `node dist/cli.js` runs without the cap.

import '../dist/cli.js';
