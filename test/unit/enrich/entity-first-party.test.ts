import t from 'tap';
import { EntityLookup, isFirstParty } from '../../../src/enrich/entity/entity-lookup.js';

// [app id, host, first party?]
const rows: Array<[string | undefined, string, boolean]> = [
  ['com.miui.gallery', 'api.micloud.xiaomi.net', true],
  ['com.xiaomi.account', 'account.xiaomi.com', true],
  ['com.mi.health', 'data.mistat.xiaomi.com', true],
  ['com.google.android.gms', 'app-measurement.com', true],
  ['com.android.vending', 'googleads.g.doubleclick.net', true],
  ['com.android.chrome', 'www.google-analytics.com', true],
  ['com.facebook.katana', 'graph.facebook.com', true],
  ['com.instagram.android', 'connect.facebook.net', true],
  ['com.whatsapp', 'mmg.whatsapp.net', true],
  ['com.tencent.mm', 'android.bugly.qq.com', true],
  ['com.taobao.taobao', 'alog.umeng.com', true],
  ['com.huawei.hwid', 'grs.hicloud.com', true],
  ['com.sec.android.app.samsungapps', 'vas.samsungapps.com', true],
  ['com.baidu.searchbox', 'hm.baidu.com', true], // trackerdb's Baidu, prefix from its website baidu.com
  ['com.MIUI.Gallery', 'api.micloud.xiaomi.net', true],
  // Look-alikes.
  ['com.xiaomi.fake', 'alog.umeng.com', false], // a Xiaomi-looking package, a non-Xiaomi host
  ['com.example.google', 'app-measurement.com', false], // contains "google"
  ['com.googlex.app', 'app-measurement.com', false],
  ['google.com.app', 'app-measurement.com', false],
  ['com.miuiclone.gallery', 'api.micloud.xiaomi.net', false],
  ['com.android.settings', 'app-measurement.com', false], // AOSP, not Google's
  ['com.miui.gallery', 'app-measurement.com', false],
  ['com.miui.gallery', 'launches.appsflyersdk.com', false], // an SDK inside someone's app
  ['com.example.app', 'o1.ingest.sentry.io', false],
  ['', 'api.micloud.xiaomi.net', false],
  [undefined, 'api.micloud.xiaomi.net', false],
  ['com.miui.gallery', 'unknown.example', false],
];

t.test('first party: the app is the entity company\'s own', async (t) => {
  await EntityLookup.shared();
  for (const [app, host, expected] of rows) {
    const entity = EntityLookup.of(host);
    if (host !== 'unknown.example') t.ok(entity, `${host} is known`);
    t.equal(isFirstParty(app, entity), expected, `${app} → ${host} (${entity?.entity}): ${expected ? 'first' : 'third'} party`);
  }
});

t.test('by name for placed entities (the demo), which carry no packages', async (t) => {
  t.ok(isFirstParty('com.miui.gallery', { entity: 'Xiaomi', purpose: 'vendor cloud', domain: 'gallery.demo', source: 'demo' }));
  t.notOk(isFirstParty('com.miui.gallery', { entity: 'Xiaomi Fans Club', purpose: 'misc', domain: 'x.demo', source: 'demo' }));
});
