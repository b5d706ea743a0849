import t from 'tap';
import { collectGarbage } from '../../../src/util/collect-garbage.js';

t.test('collectGarbage collects: an object nothing refers to is gone right after', async (t) => {
  let body: Uint8Array | undefined = new Uint8Array(8 * 1024 * 1024);
  const ref = new WeakRef(body);
  body = undefined;
  // A WeakRef's target survives until the current job ends, so collect in a later one.
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  t.equal(ref.deref(), undefined);
});
