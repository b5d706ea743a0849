import t from 'tap';
import { transparentRules, validateInterface } from '../../../src/cli/transparent-rules.js';

t.test('transparent-rules: redirect TCP, drop QUIC, and the exact reverse with --undo', async (t) => {
  const add = transparentRules('ap0', 8081, false);
  t.ok(add.includes('iptables -t nat -A PREROUTING -i ap0 -p tcp -j REDIRECT --to-ports 8081'));
  t.ok(add.includes('ip6tables -t nat -A PREROUTING -i ap0 -p tcp -j REDIRECT --to-ports 8081'));
  t.ok(add.includes('iptables -A FORWARD -i ap0 -p udp --dport 443 -j DROP'));
  const undo = transparentRules('ap0', 8081, true).filter((l) => !l.startsWith('#'));
  const added = add.filter((l) => l.includes('tables '));
  t.same(undo, added.map((l) => l.replace(' -A ', ' -D ')), 'every rule added is removed');
});

t.test('interface names never carry shell syntax', async (t) => {
  for (const good of ['wlan0', 'ap0', 'wlp2s0', 'br-lan', 'eth0.100']) t.equal(validateInterface(good), good);
  for (const bad of ['', 'wlan0; reboot', '$(id)', 'a'.repeat(16), 'wl an', '../x']) t.throws(() => validateInterface(bad), /--interface/, JSON.stringify(bad));
});
