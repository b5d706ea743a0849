import t from 'tap';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { claimRunRecord, currentNetns, isRunning, processIdentity, readRunRecord, removeRunRecord, runRecordFile, updateRunRecord } from '../../../../src/proxy/modes/wireguard/wireguard-run-record.js';
import { validateInterfaceName, wireguardUnavailable, defaultWireguardInterface } from '../../../../src/proxy/modes/wireguard/wireguard-endpoint.js';
import { ConfigError } from '../../../../src/util/errors.js';

t.test('a process is the same only with the same pid and start time; an exited one is not running', async (t) => {
  const self = processIdentity(process.pid);
  t.ok(self && /^\d+$/.test(self.startTime));
  t.ok(isRunning(self));
  t.notOk(isRunning({ pid: process.pid, startTime: `${Number(self!.startTime) + 1}` }), 'a recycled pid (other start time) is not ours');
  t.notOk(isRunning(undefined));
  const child = spawn(process.execPath, ['-e', '']);
  const identity = processIdentity(child.pid!);
  await once(child, 'exit');
  t.notOk(isRunning(identity), 'exited');
  t.match(currentNetns(), /^net:\[\d+\]$/);
});

t.test('the run record: claimed once, updated whole, read back checked, removed', { skip: process.getuid?.() === 0 ? false : 'needs root (/run/phonehome)' }, async (t) => {
  const name = `phrec${process.pid % 100000}`;
  removeRunRecord(name);
  t.teardown(() => removeRunRecord(name));
  const owner = processIdentity(process.pid)!;
  t.ok(claimRunRecord(name, { owner, netns: currentNetns() }));
  t.notOk(claimRunRecord(name, { owner, netns: currentNetns() }), 'a second claim fails while the record exists');
  t.equal(fs.statSync(runRecordFile(name)).mode & 0o777, 0o600);
  updateRunRecord(name, { owner, netns: currentNetns(), wireguardGo: owner, ipForwardBefore: '0' });
  t.same(readRunRecord(name), { owner, netns: currentNetns(), wireguardGo: owner, ipForwardBefore: '0' });
  for (const garbage of ['', '{', '[]', '{"owner":{"pid":-1,"startTime":"1"},"netns":"x"}', '{"owner":{"pid":1},"netns":"x"}']) {
    fs.writeFileSync(runRecordFile(name), garbage);
    t.equal(readRunRecord(name), undefined, `unreadable, so stale: ${garbage}`);
  }
  fs.writeFileSync(runRecordFile(name), JSON.stringify({ owner, netns: 'x', ipForwardBefore: '1; rm -rf /', wireguardGo: { pid: 'one' } }));
  t.same(readRunRecord(name), { owner, netns: 'x' }, 'odd fields are dropped, never used');
  removeRunRecord(name);
  t.notOk(fs.existsSync(runRecordFile(name)));
  removeRunRecord(name);
});

t.test('interface names: what Linux takes, nothing longer or stranger', async (t) => {
  t.equal(defaultWireguardInterface.length <= 15, true);
  for (const name of [defaultWireguardInterface, 'wg0', 'a.b_c-d', 'x'.repeat(15)]) t.equal(validateInterfaceName(name), name);
  for (const name of ['', 'x'.repeat(16), 'wg 0', 'wg/0', '../wg', '-wg', 'wg\n0', 'wg:0']) t.throws(() => validateInterfaceName(name), ConfigError, JSON.stringify(name));
});

t.test('wireguardUnavailable says why in one line, or nothing', async (t) => {
  const why = wireguardUnavailable();
  if (why === undefined) t.pass('this machine can run it');
  else t.match(why, /^the WireGuard mode needs [^\n]+$/);
});
