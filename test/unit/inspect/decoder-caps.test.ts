// Decoders' caps, one step either side (issue #23, planted bugs): an ftyp box of 16 to 4096 bytes
// names its brands, 15 or 4097 do not; a protobuf message stops at its field budget and at 10,000
// fields of its own.

import t from 'tap';
import { performance } from 'node:perf_hooks';
import { DecodeBudget } from '../../../src/inspect/decode/budget.js';
import { ftypBrands } from '../../../src/inspect/decode/magic.js';
import { parseProtobuf } from '../../../src/inspect/decode/protobuf.js';

const ftyp = (size: number, length = Math.max(size, 16)): Buffer => {
  const box = Buffer.alloc(length, 0x20);
  box.writeUInt32BE(size, 0);
  box.write('ftypheic', 4, 'latin1');
  box.writeUInt32BE(0, 12);
  if (length >= 20) box.write('mif1', 16, 'latin1');
  return box;
};

t.test('an ftyp box of 16 to 4096 bytes names its brands; of 15 or 4097 it is no box', async (t) => {
  t.same(ftypBrands(ftyp(16)), ['heic']);
  t.same(ftypBrands(ftyp(20)), ['heic', 'mif1']);
  t.same(ftypBrands(ftyp(15)), []);
  t.same(ftypBrands(ftyp(4096)).slice(0, 2), ['heic', 'mif1']);
  t.equal(ftypBrands(ftyp(4096)).length, 1 + (4096 - 16) / 4);
  t.same(ftypBrands(ftyp(4097, 4100)), []);
  t.same(ftypBrands(ftyp(16).subarray(0, 15)), [], 'fewer than 16 bytes: nothing to read');
});

// Field 1, varint 1, as many times as asked: two bytes a field.
const fields = (n: number): Buffer => Buffer.alloc(2 * n, Buffer.from([0x08, 0x01]));

t.test('a message stops at its field budget: exactly the budget is read, one more is not', async (t) => {
  t.ok(parseProtobuf(fields(5), 0, { fields: 5 }));
  t.equal(parseProtobuf(fields(6), 0, { fields: 5 }), undefined);
});

t.test('a message of 10,000 fields is read, of 10,001 it is not', async (t) => {
  const read = parseProtobuf(fields(10_000), 0, { fields: 1_000_000 });
  t.equal((read?.['1'] as unknown[] | undefined)?.length, 10_000);
  t.equal(parseProtobuf(fields(10_001), 0, { fields: 1_000_000 }), undefined);
});

t.test('a decode budget past its time says it is expired, and why; within it, not', async (t) => {
  const late = new DecodeBudget(-1);
  t.equal(late.expired(), true);
  // The message names the budget given (the proxy thread's quick look has a smaller one than the worker's).
  t.same([...late.problems], ['time budget of -1 ms used up: analysis truncated']);
  const early = new DecodeBudget(60_000);
  t.equal(early.expired(), false);
  t.equal(early.problems.size, 0);
});

t.test('a decode budget reads the clock sparingly, yet says it is expired within a few calls of its deadline', async (t) => {
  // The budget's own clock, moved by the test: a real one made the checks below depend on the
  // test not being descheduled for 2 ms between two lines (CI runs suites side by side).
  let now = 1_000;
  const clock = (): number => now;
  const budget = new DecodeBudget(5, undefined, clock);
  t.equal(budget.deadlineMs, 1_005, 'the deadline is read from the clock given');
  t.equal(budget.expired(), false, 'the first call reads the clock: 5 ms left');
  now = 1_005.5;
  let calls = 1;
  while (!budget.expired()) calls++;
  t.equal(calls, 8, 'with more than half the time left, the clock is read once in 8 calls: past the deadline, the 8th call says so');
  t.equal(budget.expired(), true, 'and stays expired');
  now = 1_000;
  t.equal(budget.expired(), true, 'even if the clock were read again');
  t.same([...budget.problems], ['time budget of 5 ms used up: analysis truncated'], 'said once');
  // Once less than half the time is left, every call reads the clock.
  now = 2_000;
  const late = new DecodeBudget(5, undefined, clock);
  now = 2_003;
  t.equal(late.expired(), false, 'under half left: read, not yet over');
  now = 2_005.5;
  t.equal(late.expired(), true, 'the next call after the deadline says so');
});
