// A short soak in CI (the 30-minute one is `npm run soak -- 30`, figures in the README): steady
// mixed traffic for 20 s through the built CLI. Every completed flow is in flows.har, open file
// descriptors come back down when the traffic stops, memory does not run away.

import t from 'tap';
import { soak } from '../../src/bench/soak.js';

t.test('steady mixed traffic: nothing lost, no descriptor leak, memory bounded', async (t) => {
  const result = await soak({ seconds: 20, sampleEverySeconds: 4 });
  t.equal(result.exitCode, 0);
  t.ok(result.completed > 100, `${result.completed} flows completed`);
  t.equal(result.missing, 0, `${result.recorded} of ${result.completed} recorded`);
  const warm = result.samples[1]!;
  const last = result.samples.at(-1)!;
  t.comment(`RSS ${result.samples.map((s) => s.rssMb).join(' → ')} MB; fds ${result.samples.map((s) => s.fds).join(' → ')}`);
  t.ok(last.fds <= warm.fds + 8, `descriptors after the traffic: ${last.fds} (warm: ${warm.fds})`);
  t.ok(last.rssMb < warm.rssMb * 1.5 + 50, `RSS ${last.rssMb} MB after warm-up ${warm.rssMb} MB`);
});
