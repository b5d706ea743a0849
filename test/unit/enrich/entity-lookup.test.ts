import t from 'tap';
import { EntityLookup, type EntityInfo } from '../../../src/enrich/entity/entity-lookup.js';
import { PURPOSES } from '../../../src/enrich/entity/purpose.js';
import { MOBILE_ENTITIES } from '../../../src/enrich/entity/mobile-entities.js';

// [host, entity, purpose, matched domain, source]; undefined entity: nobody's. The trackerdb rows
// come from the installed @ghostery/trackerdb (1.0.945); a newer release may move one.
const rows: Array<[string, string | undefined, string?, string?, string?]> = [
  // Our mobile table.
  ['alog.umeng.com', 'Umeng (Alibaba)', 'analytics', 'umeng.com', 'phonehome'],
  ['umeng.com', 'Umeng (Alibaba)', 'analytics', 'umeng.com', 'phonehome'],
  ['msg.umeng.com', 'Umeng (Alibaba)', 'push', 'msg.umeng.com', 'phonehome'],
  ['api.micloud.xiaomi.net', 'Xiaomi', 'vendor cloud', 'xiaomi.net', 'phonehome'],
  ['resolver.msg.xiaomi.net', 'Xiaomi', 'vendor cloud', 'xiaomi.net', 'phonehome'],
  ['register.xmpush.xiaomi.com', 'Xiaomi', 'push', 'xmpush.xiaomi.com', 'phonehome'],
  ['data.mistat.xiaomi.com', 'Xiaomi', 'analytics', 'mistat.xiaomi.com', 'phonehome'],
  ['api.ad.xiaomi.com', 'Xiaomi', 'advertising', 'ad.xiaomi.com', 'phonehome'],
  ['update.miui.com', 'Xiaomi', 'vendor cloud', 'miui.com', 'phonehome'],
  ['app.chat.xiaomi.net', 'Xiaomi', 'push', 'app.chat.xiaomi.net', 'phonehome'],
  ['data.mistat.intl.xiaomi.com', 'Xiaomi', 'analytics', 'mistat.intl.xiaomi.com', 'phonehome'],
  ['grs.hicloud.com', 'Huawei', 'vendor cloud', 'hicloud.com', 'phonehome'],
  ['api-media.push.heytapmobi.com', 'OPPO (HeyTap)', 'push', 'push.heytapmobi.com', 'phonehome'],
  ['uc-client-cn.heytapmobi.com', 'OPPO (HeyTap)', 'vendor cloud', 'heytapmobi.com', 'phonehome'],
  ['in-vmd.vivoglobal.com', 'vivo', 'vendor cloud', 'vivoglobal.com', 'phonehome'],
  ['eu-auth2.samsungosp.com', 'Samsung', 'vendor cloud', 'samsungosp.com', 'phonehome'],
  ['api.tuisong.baidu.com', 'Baidu', 'push', 'tuisong.baidu.com', 'phonehome'],
  ['android.bugly.qq.com', 'Tencent', 'crash reporting', 'bugly.qq.com', 'phonehome'],
  ['mi.gdt.qq.com', 'Tencent', 'advertising', 'gdt.qq.com', 'phonehome'],
  ['tsis.jpush.cn', 'JPush (Aurora Mobile)', 'push', 'jpush.cn', 'phonehome'],
  ['sdk.open.phone.igexin.com', 'Getui', 'push', 'igexin.com', 'phonehome'],
  ['app-measurement.com', 'Google', 'analytics', 'app-measurement.com', 'phonehome'],
  ['settings.crashlytics.com', 'Google', 'crash reporting', 'crashlytics.com', 'phonehome'],
  ['firebaseinstallations.googleapis.com', 'Google', 'analytics', 'firebaseinstallations.googleapis.com', 'phonehome'],
  ['fcm.googleapis.com', 'Google', 'push', 'fcm.googleapis.com', 'phonehome'],
  ['mtalk.google.com', 'Google', 'push', 'mtalk.google.com', 'phonehome'],
  ['android.clients.google.com', 'Google', 'vendor cloud', 'android.clients.google.com', 'phonehome'],
  ['firebaselogging-pa.googleapis.com', 'Google', 'analytics', 'firebaselogging-pa.googleapis.com', 'phonehome'],
  ['www.google.com', 'Google', 'advertising', 'google.com', 'trackerdb'],
  ['o123.ingest.sentry.io', 'Sentry', 'crash reporting', 'sentry.io', 'phonehome'],
  ['sessions.bugsnag.com', 'Bugsnag (SmartBear)', 'crash reporting', 'bugsnag.com', 'phonehome'],
  ['launches.appsflyersdk.com', 'AppsFlyer', 'analytics', 'appsflyersdk.com', 'phonehome'],
  ['app.adjust.com', 'Adjust (AppLovin)', 'analytics', 'adjust.com', 'phonehome'],
  ['1-courier.push.apple.com', 'Apple', 'push', 'push.apple.com', 'phonehome'],
  // trackerdb, with its categories in our words and our names for companies we also list.
  ['www.google-analytics.com', 'Google', 'analytics', 'google-analytics.com', 'trackerdb'],
  ['googleads.g.doubleclick.net', 'Google', 'advertising', 'doubleclick.net', 'trackerdb'],
  ['storage.googleapis.com', 'Google', 'hosting', 'googleapis.com', 'trackerdb'],
  ['connect.facebook.net', 'Meta', 'advertising', 'facebook.net', 'trackerdb'],
  ['graph.facebook.com', 'Meta', 'social', 'graph.facebook.com', 'trackerdb'],
  ['s4.cnzz.com', 'Umeng (Alibaba)', 'analytics', 'cnzz.com', 'trackerdb'],
  ['api.mixpanel.com', 'Mixpanel', 'analytics', 'mixpanel.com', 'trackerdb'],
  // Spelling: case, a trailing dot, a port, an IDN label under a known domain.
  ['ALOG.UMENG.COM', 'Umeng (Alibaba)', 'analytics', 'umeng.com', 'phonehome'],
  ['alog.umeng.com.', 'Umeng (Alibaba)', 'analytics', 'umeng.com', 'phonehome'],
  ['alog.umeng.com:443', 'Umeng (Alibaba)', 'analytics', 'umeng.com', 'phonehome'],
  ['bücher.umeng.com', 'Umeng (Alibaba)', 'analytics', 'umeng.com', 'phonehome'],
  // Look-alikes: not on a label boundary, the known name as a prefix, homographs, addresses.
  ['notumeng.com', undefined],
  ['umeng.com.evil.test', undefined],
  ['umeng.co', undefined],
  ['umеng.com', undefined], // Cyrillic е
  ['xn--umng-yye.com', undefined],
  ['xmpush-xiaomi.com', undefined],
  ['fakecrashlytics.com', undefined],
  ['com', undefined],
  ['', undefined],
  ['   ', undefined],
  ['.', undefined],
  ['..umeng.com', undefined],
  ['alog..umeng.com', undefined],
  ['8.8.8.8', undefined],
  ['8.8.8.8.', undefined],
  ['::1', undefined],
  ['[2001:4860:4860::8888]:443', undefined],
  ['unknown.example', undefined],
  ['a'.repeat(300) + '.umeng.com', undefined],
];

t.test('hosts to company and purpose', async (t) => {
  await EntityLookup.shared();
  for (const [host, entity, purpose, domain, source] of rows) {
    const info = EntityLookup.of(host);
    if (entity === undefined) {
      t.equal(info, undefined, `${JSON.stringify(host)} is nobody's`);
      continue;
    }
    t.match(info, { entity, purpose, domain, source }, `${host} → ${entity} (${purpose})`);
  }
  t.equal(EntityLookup.of('alog.umeng.com')?.country, 'CN');
  t.equal(EntityLookup.of('app.adjust.com')?.country, 'DE');
  t.equal(EntityLookup.of('ALOG.umeng.com'), EntityLookup.of('alog.umeng.com'), 'cached per spelling-free key');
});

t.test('our table wins a tie with trackerdb, and the longest suffix wins over both', async (t) => {
  await EntityLookup.shared();
  // trackerdb 1.0.945 files sentry.io under utilities, bugsnag.com under analytics and apple.com
  // (its iTunes link maker) under advertising: on a phone these are crash reports and Apple's cloud.
  t.match(EntityLookup.of('sentry.io'), { purpose: 'crash reporting', source: 'phonehome' });
  t.match(EntityLookup.of('bugsnag.com'), { purpose: 'crash reporting', source: 'phonehome' });
  t.match(EntityLookup.of('gsa.apple.com'), { entity: 'Apple', purpose: 'vendor cloud', source: 'phonehome' });
  // googleapis.com is trackerdb's (hosting); its Firebase hosts are longer rows of ours.
  t.match(EntityLookup.of('crashlyticsreports-pa.googleapis.com'), { purpose: 'crash reporting', domain: 'crashlyticsreports-pa.googleapis.com' });
  t.match(EntityLookup.of('www.googleapis.com'), { purpose: 'hosting', source: 'trackerdb' });
});

t.test('every purpose is in the documented vocabulary', async (t) => {
  for (const company of MOBILE_ENTITIES) {
    for (const [domain, purpose] of Object.entries(company.domains)) {
      t.ok(PURPOSES.includes(purpose), `${domain}: ${purpose}`);
      t.equal(domain, domain.toLowerCase(), `${domain} is lowercase`);
    }
  }
});

t.test('placed hosts (the demo) are answered before any table, with their subdomains', async (t) => {
  await EntityLookup.shared();
  const gallery: EntityInfo = { entity: 'Xiaomi', purpose: 'vendor cloud', country: 'CN', domain: 'gallery.demo', source: 'demo (simulated)' };
  EntityLookup.place(new Map([['Gallery.Demo.', gallery]]));
  t.teardown(() => EntityLookup.place(new Map()));
  t.equal(EntityLookup.of('gallery.demo'), gallery);
  t.equal(EntityLookup.of('upload.gallery.demo'), gallery);
  t.equal(EntityLookup.of('xgallery.demo'), undefined);
  t.match(EntityLookup.of('alog.umeng.com'), { entity: 'Umeng (Alibaba)' });
});
