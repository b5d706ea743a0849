// Our own table of the companies a phone talks to that a web-centric tracker database misses or
// mislabels: the device makers' clouds, the Chinese push and analytics SDKs, Firebase's mobile
// endpoints, the crash reporters. Written by us for phonehome (MIT, like the rest of the code); it
// answers even when @ghostery/trackerdb is not installed or is turned off (--entities none).
//
// Each domain matches itself and its subdomains, on label boundaries; a longer row beats a shorter
// one (xmpush.xiaomi.com is push, the rest of xiaomi.com is Xiaomi's cloud), and at equal length
// this table beats trackerdb. Only domains we know the company runs are here: fewer rows that are
// right beat many guesses.
//
// `packages` are the package-name prefixes of the company's own apps (Android application ids, iOS
// bundle ids): an app whose id starts with one of them talking to this company is first party. SDK
// makers whose code runs inside other people's apps have none: their traffic is never first party.

import type { Purpose } from './purpose.js';

export interface MobileEntity {
  readonly entity: string;
  /** ISO 3166-1 alpha-2 of the company's home. */
  readonly country?: string;
  readonly packages: readonly string[];
  /**
   * trackerdb's keys for the same company, whose rows then carry our name: otherwise trackerdb's
   * `Umeng` (cnzz.com) and our `Umeng (Alibaba)` (umeng.com) would read as two companies.
   */
  readonly trackerdbOrganizations?: readonly string[];
  readonly domains: Readonly<Record<string, Purpose>>;
}

export const MOBILE_ENTITIES: readonly MobileEntity[] = [
  {
    entity: 'Xiaomi',
    country: 'CN',
    packages: ['com.xiaomi', 'com.miui', 'com.mi'],
    domains: {
      'xiaomi.com': 'vendor cloud',
      'xiaomi.net': 'vendor cloud',
      'xiaomi.cn': 'vendor cloud',
      'miui.com': 'vendor cloud',
      'mi.com': 'vendor cloud',
      'mi-img.com': 'vendor cloud',
      'mifile.cn': 'vendor cloud',
      'appmifile.com': 'vendor cloud',
      // MiPush, Xiaomi's push channel for apps on MIUI: its registration and API hosts, and the
      // device connection its SDK opens by default.
      'xmpush.xiaomi.com': 'push',
      'app.chat.xiaomi.net': 'push',
      // MiStat and MIUI's own usage tracking.
      'mistat.xiaomi.com': 'analytics',
      'mistat.intl.xiaomi.com': 'analytics',
      'tracking.miui.com': 'analytics',
      'tracking.intl.miui.com': 'analytics',
      // MIUI's system ads.
      'ad.xiaomi.com': 'advertising',
      'ad.intl.xiaomi.com': 'advertising',
    },
  },
  {
    entity: 'Huawei',
    country: 'CN',
    packages: ['com.huawei'],
    domains: {
      'huawei.com': 'vendor cloud',
      'hicloud.com': 'vendor cloud',
      'dbankcloud.com': 'vendor cloud',
      'dbankcloud.cn': 'vendor cloud',
      'dbankcdn.com': 'vendor cloud',
      'push-api.cloud.huawei.com': 'push',
      'vmall.com': 'vendor cloud',
    },
  },
  {
    entity: 'Samsung',
    country: 'KR',
    packages: ['com.samsung', 'com.sec'],
    domains: {
      'samsung.com': 'vendor cloud',
      'samsungcloud.com': 'vendor cloud',
      'samsungosp.com': 'vendor cloud',
      'samsungapps.com': 'vendor cloud',
      'samsungads.com': 'advertising',
    },
  },
  {
    entity: 'OPPO (HeyTap)',
    country: 'CN',
    packages: ['com.oppo', 'com.coloros', 'com.heytap', 'com.nearme'],
    domains: {
      'oppo.com': 'vendor cloud',
      'oppomobile.com': 'vendor cloud',
      'coloros.com': 'vendor cloud',
      'heytap.com': 'vendor cloud',
      'heytapmobi.com': 'vendor cloud',
      'heytapmobile.com': 'vendor cloud',
      'push.heytapmobi.com': 'push',
      'push.oppomobile.com': 'push',
    },
  },
  {
    entity: 'vivo',
    country: 'CN',
    packages: ['com.vivo', 'com.bbk'],
    domains: {
      'vivo.com': 'vendor cloud',
      'vivo.com.cn': 'vendor cloud',
      'vivoglobal.com': 'vendor cloud',
    },
  },
  {
    entity: 'Tencent',
    country: 'CN',
    packages: ['com.tencent'],
    trackerdbOrganizations: ['qq.com'],
    domains: {
      'qq.com': 'vendor cloud',
      'tencent.com': 'vendor cloud',
      'wechat.com': 'vendor cloud',
      'gtimg.cn': 'hosting',
      'bugly.qq.com': 'crash reporting',
      // Guangdiantong, Tencent's ad network.
      'gdt.qq.com': 'advertising',
    },
  },
  {
    entity: 'Baidu',
    country: 'CN',
    packages: ['com.baidu'],
    domains: {
      // Baidu Cloud Push ("tuisong" is push).
      'tuisong.baidu.com': 'push',
    },
  },
  {
    entity: 'Umeng (Alibaba)',
    country: 'CN',
    // Umeng is Alibaba's: Alibaba's and Taobao's apps talking to it are first party.
    packages: ['com.alibaba', 'com.taobao'],
    trackerdbOrganizations: ['umeng'],
    domains: {
      'umeng.com': 'analytics',
      'umengcloud.com': 'analytics',
      // Umeng's push channel (U-Push).
      'msg.umeng.com': 'push',
      'msg.umengcloud.com': 'push',
    },
  },
  {
    entity: 'JPush (Aurora Mobile)',
    country: 'CN',
    packages: [],
    domains: {
      'jpush.cn': 'push',
      'jpush.io': 'push',
      'jiguang.cn': 'push',
    },
  },
  {
    entity: 'Getui',
    country: 'CN',
    packages: [],
    domains: {
      'getui.com': 'push',
      'igexin.com': 'push',
    },
  },
  {
    entity: 'Google',
    country: 'US',
    // com.android.vending is the Play Store and com.android.chrome is Chrome; the rest of
    // com.android.* is AOSP, which every phone maker ships and changes, so it says nothing.
    packages: ['com.google', 'com.android.vending', 'com.android.chrome'],
    domains: {
      // Firebase: Analytics, Crashlytics, Installations (the app-instance id its other services
      // share), Cloud Messaging and its device channel, Realtime Database.
      'app-measurement.com': 'analytics',
      'crashlytics.com': 'crash reporting',
      'crashlyticsreports-pa.googleapis.com': 'crash reporting',
      'firebaseinstallations.googleapis.com': 'analytics',
      'fcm.googleapis.com': 'push',
      'mtalk.google.com': 'push',
      'firebaseio.com': 'hosting',
      // Firebase's log transport, which Crashlytics and Performance Monitoring send through.
      'firebaselogging-pa.googleapis.com': 'analytics',
      // Google Play services and the Play Store: device check-in, account tokens, store API.
      // (trackerdb files all of google.com under advertising, which is not what these are.)
      'android.clients.google.com': 'vendor cloud',
      'android.googleapis.com': 'vendor cloud',
    },
  },
  {
    entity: 'Sentry',
    country: 'US',
    packages: [],
    domains: {
      'sentry.io': 'crash reporting',
    },
  },
  {
    entity: 'Bugsnag (SmartBear)',
    country: 'US',
    packages: [],
    trackerdbOrganizations: ['bugsnag'],
    domains: {
      'bugsnag.com': 'crash reporting',
    },
  },
  {
    entity: 'AppsFlyer',
    country: 'US',
    packages: [],
    domains: {
      'appsflyer.com': 'analytics',
      'appsflyersdk.com': 'analytics',
    },
  },
  {
    entity: 'Adjust (AppLovin)',
    country: 'DE',
    packages: [],
    trackerdbOrganizations: ['adjust'],
    domains: {
      'adjust.com': 'analytics',
      'adjust.io': 'analytics',
    },
  },
  {
    entity: 'Apple',
    country: 'US',
    packages: ['com.apple'],
    domains: {
      'apple.com': 'vendor cloud',
      'icloud.com': 'vendor cloud',
      'icloud-content.com': 'vendor cloud',
      // APNs: the device's courier connection and the providers' API.
      'push.apple.com': 'push',
    },
  },
  {
    entity: 'Meta',
    country: 'US',
    packages: ['com.facebook', 'com.instagram', 'com.whatsapp', 'com.oculus'],
    domains: {
      // WhatsApp's own servers, which trackerdb (a tracker list) does not carry.
      'whatsapp.net': 'vendor cloud',
      'whatsapp.com': 'vendor cloud',
    },
  },
];
