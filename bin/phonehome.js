#!/usr/bin/env -S MALLOC_ARENA_MAX=2 GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=131072 node --max-semi-space-size=2 --initial-old-space-size=32
// The `phonehome` command as installed (package.json bin): dist/cli.js with V8's nursery capped,
// and glibc's malloc tuned (below).
// A semi-space of 2 MB instead of V8's 16 MB maximum: the nursery grew to its maximum while the
// modules loaded (before any of our code could hold it back; V8 sizes it only from the command
// line) and an idle capture kept it resident, as a busy one kept 32 MB of it. Measured on the
// shared 2-core box, same command back to back (scripts/profile-capture.mjs, 3 rounds): idle RSS
// 141-150 -> 124-139 MB, after 8 s of small requests 196-201 -> 166-182 MB, CPU per small request
// unchanged within the noise (347-377 against 357-372 us); 1 MB cost more CPU in the collector's
// threads (369-410 us), 4 and 8 MB saved little memory. `node dist/cli.js` runs without the cap.
// MALLOC_ARENA_MAX=2: glibc gives each thread that allocates (the proxy's, the inspection worker's,
// libuv's pool, V8's helpers) an arena of its own, and memory freed into one is not reused by the
// others. Two arenas: idle 99-104 -> 96-101 MB, RSS after 480 uploads of 560 KB 109-117 -> 107-112
// MB, CPU per small request within the noise (272-314 against 277-317 us); one arena cost ~8 %
// more CPU (lock contention). Other C libraries ignore the variable.
// --initial-old-space-size=32: a floor under the old generation's collection limit. The capture
// collects once after loading its tables (src/app/capture-session.ts), and V8 then set the limit
// at about 1.6x the 15 MB heap; but V8 also counts memory outside the heap allocated since the
// last full collection against that room, and an upload's TLS records (16 KB buffers, freed only
// at the next nursery collection) filled the 9 MB within ~60 ms, every time: 7 full collections
// per 128 MB upload where the bare relay made none, about a quarter of the capture's CPU for it.
// With the floor: none, 5.96 -> 5.15 ms of CPU per MB, 165-173 -> 188-201 MB/s pinned to one core
// (scripts/profile-capture.mjs --upload 128, back to back); small requests and their RSS within
// the noise; idle RSS about 4 MB more (garbage left from start-up). The inspection worker, which
// never sees those records, is started without it (src/inspect/inspection-pool.ts). The garbage
// the floor would let stand under a phone's light load is collected by src/util/old-generation-pacer.ts.
// GLIBC_TUNABLES=glibc.malloc.hugetlb=1: glibc asks the kernel for transparent huge pages
// (madvise) on what it maps of 2 MB and more, the 32 MB buffers that capture large bodies among
// them. Each capture buffer is fresh memory, and on the virtual machines labs use a first touch
// costs about 11 µs per 4 KB page: 8,192 faults per 32 MB body, 16 with 2 MB pages. Measured
// pinned, back to back (scripts/profile-capture.mjs --installed --pin --upload 128 --uploads 4):
// 181-197 -> 208-262 MB/s, 5.12-5.20 -> 4.10-4.26 ms of CPU per MB; small requests the same; idle
// RSS about 2 MB more (glibc grows its heap in 2 MB steps). Where the kernel's THP setting is
// `never`, older glibc or another C library: ignored. It replaces a GLIBC_TUNABLES of the caller's.
// glibc.malloc.mmap_threshold=131072: glibc maps allocations of 128 KB and more on their own and
// unmaps them when freed; by default it raises that threshold to the size of each mapped block
// freed (up to 32 MB), so once a large buffer had come and gone, later ones below its size came
// from its heap and left it fragmented: on the lab day glibc's heap grew to 27.5 MB for 15-19 MB
// in use (mallinfo2, read by a preload not committed). Held at glibc's own starting value (setting
// it stops the raising): 22.7 MB for the same. Two 30-minute lab days side by side: RSS from
// minute 5 at 102-110 MB (median 106) with it, 101-129 (median 124) without; the same latencies and
// CPU. Pinned, back to back: 128 MB uploads 4.08-4.41 against 4.20-4.30 ms of CPU per MB, small
// requests within the noise. (An earlier 6-minute run had found too little to adopt it: the
// lab day without it grows most after minute 4.)

import '../dist/cli.js';
