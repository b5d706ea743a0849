import t from 'tap';
import { defaultProxyLoops, resolveProxyLoops } from '../../../../src/proxy/threads/loop-count.js';

t.test('the default: one loop on up to two cores, one fewer than the cores above, three at most (what one primary feeds)', async (t) => {
  t.same([1, 2, 3, 4, 5, 8, 16, 64].map((cores) => defaultProxyLoops(cores)), [1, 1, 2, 3, 3, 3, 3, 3]);
});

t.test('--threads wins over PHONEHOME_THREADS, which wins over the default', async (t) => {
  t.equal(resolveProxyLoops('3', { PHONEHOME_THREADS: '2' }, { wireguard: false }, 16), 3);
  t.equal(resolveProxyLoops(undefined, { PHONEHOME_THREADS: '2' }, { wireguard: false }, 1), 2);
  t.equal(resolveProxyLoops(undefined, { PHONEHOME_THREADS: '' }, { wireguard: false }, 4), 3);
  t.equal(resolveProxyLoops(undefined, { PHONEHOME_THREADS: '6' }, { wireguard: false }, 2), 6, 'asked for, more than the default may run');
  t.equal(resolveProxyLoops(undefined, {}, { wireguard: false }, 2), 1);
});

t.test('a count outside 1 to 8 is one line naming where it came from', async (t) => {
  for (const bad of ['0', '9', '-1', '2.5', 'two', '']) {
    t.throws(() => resolveProxyLoops(bad, {}, { wireguard: false }), { message: `--threads ${JSON.stringify(bad)}: use a number of proxy loops from 1 to 8` });
  }
  t.throws(() => resolveProxyLoops(undefined, { PHONEHOME_THREADS: 'lots' }, { wireguard: false }), { message: 'PHONEHOME_THREADS "lots": use a number of proxy loops from 1 to 8' });
  t.equal(resolveProxyLoops('8', {}, { wireguard: false }), 8);
  t.equal(resolveProxyLoops(' 1 ', {}, { wireguard: false }), 1);
});

t.test('--wireguard runs one loop: asked for more it says so, by default it takes one', async (t) => {
  t.throws(() => resolveProxyLoops('2', {}, { wireguard: true }), { message: "--threads 2 with --wireguard: the tunnel's endpoint runs in one process; use --threads 1" });
  t.equal(resolveProxyLoops('1', {}, { wireguard: true }), 1);
  t.equal(resolveProxyLoops(undefined, { PHONEHOME_THREADS: '4' }, { wireguard: true }, 16), 1);
});
