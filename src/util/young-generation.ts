// The young generation (V8's nursery, where new objects start) grows when many of them survive,
// and it keeps the memory it grew to. Loading the offline tables at start-up is such a moment:
// about half a million ranges and names that all survive, so the nursery grew to its 32 MB
// maximum (a semi-space of 16 MB, twice) before the first device connected, and an idle capture
// held it for good. Growth is paused while such data loads, then allowed again, so traffic
// (whose objects mostly die young) still decides how large it gets.

import v8 from 'node:v8';

/** V8's default for --semi-space-growth-factor (the nursery doubles when it grows). */
const DEFAULT_GROWTH_FACTOR = 2;

/** Runs `load` with the young generation held at its current size; long-lived data goes straight on to the old one. */
export async function withoutNurseryGrowth<T>(load: () => Promise<T>): Promise<T> {
  if (!setGrowthFactor(1)) return load();
  try {
    return await load();
  } finally {
    setGrowthFactor(DEFAULT_GROWTH_FACTOR);
  }
}

function setGrowthFactor(factor: number): boolean {
  try {
    v8.setFlagsFromString(`--semi-space-growth-factor=${factor}`);
    return true;
  } catch {
    // a V8 that freezes its flags: the nursery grows as before
    return false;
  }
}
