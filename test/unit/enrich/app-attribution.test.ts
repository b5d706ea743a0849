// The app and the device behind a request, as a table of real-world User-Agents and headers.
// Every string comes from a public issue, pull request or file; the comment beside each row says
// where (repository and thread or path). Where we had only a header's name, the value is ours and
// the comment says so.

import t from 'tap';
import type { AppConfidence, HeaderList, HttpRequestRecord } from '../../../src/model/flow.js';
import { appOfRequest } from '../../../src/enrich/app/app-of-request.js';
import { deviceOfRequest, type DeviceFacts } from '../../../src/enrich/app/device-of-request.js';
import { isPackageName } from '../../../src/enrich/app/package-name.js';

function request(headers: HeaderList, body = '', url = 'https://api.example.net/v1/collect'): HttpRequestRecord {
  const bytes = Buffer.from(body);
  return { method: body ? 'POST' : 'GET', url, httpVersion: 'HTTP/1.1', headers, body: { bytes, totalBytes: bytes.length, truncated: false } };
}

interface Row {
  readonly ua: string;
  /** The app's id and confidence; `null`: no app. */
  readonly app: { id: string; confidence: AppConfidence; name?: string; version?: string } | null;
  /** Device facts expected (a subset); absent: not checked. */
  readonly device?: Partial<DeviceFacts> | null;
  readonly source: string;
}

const userAgents: Row[] = [
  // --- high: a package in the User-Agent ---
  { ua: 'com.linkedin.android/179800 (Linux; U; Android 14; de_DE; Pixel 6; Build/UP1A.231105.003; Cronet/102.0.5005.125)',
    app: { id: 'com.linkedin.android', confidence: 'high', version: '179800' }, device: { model: 'Pixel 6', os: 'Android 14', framework: 'Cronet' },
    source: 'matomo-org/device-detector#8134' },
  { ua: 'com.foo.app.package.helloworld/1 (Linux; U; Android 14; en_US; mokey; Build/UP1A.230518.002; Cronet/131.0.6724.0) grpc-java-cronet/1.68.0-SNAPSHOT,gzip(gfe),gzip(gfe)',
    app: { id: 'com.foo.app.package.helloworld', confidence: 'high' }, device: { model: 'mokey', os: 'Android 14', framework: 'grpc-java (Cronet)' },
    source: 'grpc/grpc-java#11582' },
  { ua: 'com.zhihu.android.lite/Futureve/1.1.1 Mozilla/5.0 (Linux; Android 8.1.0; vivo Y71A Build/OPM1.171019.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/62.0.3202.84 Mobile Safari/537.36',
    app: { id: 'com.zhihu.android.lite', confidence: 'high' }, device: { model: 'vivo Y71A', os: 'Android 8.1.0', framework: 'Android WebView' },
    source: 'ua-parser/uap-core#409 (comment by smileboywtu)' },
  { ua: 'Dalvik/2.1.0 (Linux; U; Android 5.1.1; hi6210sft Build/LMY47X) org.odk.collect.android/v1.5.1-10-ge20fa334-dirty',
    app: { id: 'org.odk.collect.android', confidence: 'high' }, device: { model: 'hi6210sft', os: 'Android 5.1.1', framework: 'Dalvik' },
    source: 'getodk/collect#800' },
  { ua: 'Dalvik/1.6.0 (Linux; U; Android 4.4.2; TECNO-Y4 Build/KOT49H) org.medicmobile.webapp.mobile/SNAPSHOT',
    app: { id: 'org.medicmobile.webapp.mobile', confidence: 'high', version: 'SNAPSHOT' }, device: { model: 'TECNO-Y4', os: 'Android 4.4.2' },
    source: 'medic/cht-android#28' },
  { ua: 'Dalvik/2.1.0 (Linux; U; Android 5.1; XT1053 Build/LPA23.12-15.5) edX/org.edx.mobile/1.0.09',
    app: { id: 'org.edx.mobile', name: 'edX', confidence: 'high', version: '1.0.09' }, device: { model: 'XT1053', os: 'Android 5.1' },
    source: 'openedx-unsupported/edx-app-android#481' },
  { ua: 'Mozilla/5.0 (Linux; Android 5.1; XT1053 Build/LPA23.12-15.5; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/46.0.2490.76 Mobile Safari/537.36 edX/org.edx.mobile/1.0.09',
    app: { id: 'org.edx.mobile', confidence: 'high' }, device: { model: 'XT1053', framework: 'Android WebView' },
    source: 'openedx-unsupported/edx-app-android#481' },
  // --- high: a bundle id in the first comment (Alamofire's default and its Android copies) ---
  { ua: 'iOS Example/1.0 (com.alamofire.iOS-Example; build:1; iOS 9.3.0) Alamofire/3.4.2',
    app: { id: 'com.alamofire.iOS-Example', name: 'iOS Example', confidence: 'high', version: '1.0' }, device: { os: 'iOS 9.3.0', framework: 'Alamofire' },
    source: 'Alamofire/Alamofire#1456' },
  { ua: 'Boulanger/22.3.0 (fr.boulanger.Boulanger; build:823; iOS 15.4.1) Alamofire/4.9.1',
    app: { id: 'fr.boulanger.Boulanger', name: 'Boulanger', confidence: 'high', version: '22.3.0' }, device: { os: 'iOS 15.4.1' },
    source: 'nielsbasjes/yauaa#556' },
  { ua: 'GetNinjas/2.0.1 (br.com.getninjas.GetNinjas; build:94; iOS 10.1.1) Alamofire/3.5.0',
    app: { id: 'br.com.getninjas.GetNinjas', confidence: 'high' }, source: 'fnando/browser#282' },
  { ua: 'poslovni/1.0 (com.rsteam.poslovni; build:1; iOS 13.3.1) Alamofire/5.0.0-rc.3',
    app: { id: 'com.rsteam.poslovni', confidence: 'high' }, device: { os: 'iOS 13.3.1', framework: 'Alamofire' }, source: 'Alamofire/Alamofire#3060' },
  { ua: 'Tapito/2.5.8 (com.tapmedia.tapito.debug; build:1520; Android 7.0; Model:Nexus 5X) okhttp/3.2.0',
    app: { id: 'com.tapmedia.tapito.debug', name: 'Tapito', confidence: 'high' }, device: { model: 'Nexus 5X', os: 'Android 7.0', framework: 'okhttp' },
    source: 'nimblehq/android-templates#595' },
  // --- medium: CFNetwork names the iOS app ---
  { ua: 'SPORT1/4059 CFNetwork/758.4.3 Darwin/15.5.0',
    app: { id: 'SPORT1', name: 'SPORT1', confidence: 'medium', version: '4059' }, device: { os: 'iOS 9', framework: 'CFNetwork' },
    source: 'matomo-org/device-detector#5377' },
  { ua: 'Google/2.5.1.13455 CFNetwork/609 Darwin/13.0.0',
    app: { id: 'Google', confidence: 'medium' }, device: { os: 'iOS 7' }, source: 'matomo-org/device-detector#5377' },
  { ua: 'gcw/36 CFNetwork/711.3.18 Darwin/14.0.0',
    app: { id: 'gcw', confidence: 'medium', version: '36' }, device: { os: 'iOS 8' }, source: '3rd-Eden/useragent#96' },
  { ua: 'Instacast/2749 CFNetwork/887 Darwin/17.0.0',
    app: { id: 'Instacast', confidence: 'medium' }, device: { os: 'iOS 11' }, source: 'ua-parser/uap-core#278' },
  { ua: 'Home Assistant/7 CFNetwork/1183 Darwin/20.0.0',
    app: { id: 'Home Assistant', confidence: 'medium', version: '7' }, device: { os: 'iOS 14' }, source: 'home-assistant/iOS#806' },
  { ua: 'MyApp/3139 CFNetwork/978.0.7 Darwin/18.7.0',
    app: { id: 'MyApp', confidence: 'medium' }, device: { os: 'iOS 12', framework: 'CFNetwork' }, source: 'bebnev/react-native-user-agent#10 (React Native on iOS)' },
  { ua: 'bbbMobileSdk/68 CFNetwork/1492.0.1 Darwin/23.3.0',
    app: { id: 'bbbMobileSdk', confidence: 'medium' }, device: { os: 'iOS 17' }, source: 'mconf/bbb-mobile-sdk#182' },
  { ua: 'sensePlatform/1.7 CFNetwork/672.0.2 Darwin/14.0.0',
    app: { id: 'sensePlatform', confidence: 'medium' }, source: 'senseobservationsystems/sense-android-library#79' },
  // --- medium: an app name beside a mobile HTTP stack or in a WebView's User-Agent ---
  { ua: 'Dalvik/2.1.0 (Linux; U; Android 6.0.1; MI 4LTE MIUI/V7.3.2.0.MXDCNDD) NewsArticle/5.1.3',
    app: { id: 'NewsArticle', confidence: 'medium', version: '5.1.3' }, device: { model: 'MI 4LTE', os: 'Android 6.0.1', framework: 'Dalvik' },
    source: 'browscap/browscap#975' },
  { ua: 'News Republic/12.6.4 (Linux; U; Android 28; en-us) Mobile Safari',
    app: { id: 'News Republic', confidence: 'medium', version: '12.6.4' }, source: 'ua-parser/uap-core#472' },
  { ua: 'Jellyfin Android TV/0.0.0-dev.1 via jellyfin-sdk-kotlin (OkHttp/4.12.0)',
    app: { id: 'Jellyfin Android TV', confidence: 'medium' }, source: 'jellyfin/jellyfin-sdk-kotlin#1100' },
  { ua: 'Mozilla/5.0 (Linux; Android 5.1; HUAWEI LYO-L01 Build/HUAWEILYO-L01; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/67.0.3396.87 Mobile Safari/537.36 RepublikApp',
    app: { id: 'RepublikApp', confidence: 'medium' }, device: { model: 'HUAWEI LYO-L01', os: 'Android 5.1', framework: 'Android WebView' }, source: 'republik/app#40' },
  { ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 11_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15G77 RepublikApp',
    app: { id: 'RepublikApp', confidence: 'medium' }, device: { model: 'iPhone', os: 'iOS 11.4.1' }, source: 'republik/app#40' },
  { ua: 'Dart/3.2 (dart:io), AppName/1.0.0',
    app: { id: 'AppName', confidence: 'medium', version: '1.0.0' }, device: { framework: 'Flutter (Dart)' }, source: 'flutter/flutter#158793' },
  { ua: 'Mozilla/5.0 (Linux; Android 10; SM-T510 Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/91.0.4472.120 Safari/537.36 [FB_IAB/FB4A;FBAV/325.0.0.36.170;]',
    app: { id: 'com.facebook.katana', name: 'Facebook', confidence: 'medium' }, device: { model: 'SM-T510', os: 'Android 10' }, source: 'mssola/user_agent#80' },
  { ua: 'Mozilla/5.0 (iPad; CPU OS 8_4 like Mac OS X) AppleWebKit/600.1.4 (KHTML, like Gecko) Mobile/12H143 [FBAN/FBIOS;FBAV/35.0.0.34.220;FBBV/12945441;FBDV/iPad2,5;FBMD/iPad;FBSN/iPhone OS;FBSV/8.4;FBSS/1; FBCR/;FBID/tablet;FBLC/en_US;FBOP/1]',
    app: { id: 'com.facebook.Facebook', confidence: 'medium' }, device: { model: 'iPad', os: 'iOS 8.4' }, source: 'ua-parser/uap-core#38' },
  { ua: 'Gallery/3.1 grpc-java-okhttp/1.62.2',
    app: { id: 'Gallery', confidence: 'medium', version: '3.1' }, device: { framework: 'grpc-java (okhttp)' },
    source: 'grpc/grpc-java#868 (the application\'s string comes first); app name ours' },
  { ua: 'WhatsApp/2.17.190 A', app: { id: 'com.whatsapp', name: 'WhatsApp', confidence: 'medium' }, source: 'allinurl/goaccess#808' },
  { ua: 'WhatsApp/2.16.20/i', app: { id: 'net.whatsapp.WhatsApp', confidence: 'medium' }, source: 'allinurl/goaccess#808' },
  { ua: 'WhatsApp/2.19.31 i', app: { id: 'net.whatsapp.WhatsApp', confidence: 'medium' }, source: 'prerender/prerender-node#174' },
  // --- no app: libraries, system stacks and browsers ---
  { ua: 'okhttp/4.9.2', app: null, device: { framework: 'okhttp' }, source: 'mconf/bbb-mobile-sdk#182' },
  { ua: 'okhttp/3.1.4', app: null, device: { framework: 'okhttp' }, source: 'ChuckerTeam/chucker#433' },
  { ua: 'Dalvik/1.6.0 (Linux; U; Android 4.4.4; Nexus 5 Build/KTU84P)', app: null, device: { model: 'Nexus 5', os: 'Android 4.4.4', framework: 'Dalvik' },
    source: 'square okhttp#982 (mirrored as lysine-dev/okhttp#982)' },
  { ua: 'Dalvik/1.6.0 (Linux; U; Android 4.2.2; C2004 Build/15.2.A.2.5)', app: null, device: { model: 'C2004', os: 'Android 4.2.2' }, source: 'mssola/user_agent#22' },
  { ua: 'Dalvik/2.1.0 (Linux; U; Android 5.0.2; SM-T535 Build/LRX22G)', app: null, device: { model: 'SM-T535', os: 'Android 5.0.2' },
    source: 'serbanghita/Mobile-Detect#800 (a Unity app on Android)' },
  { ua: 'Dalvik/0.0.0 (Linux; U; Android 0.0.0; 2014501 MIUI/ABCDEF)', app: null, device: { model: '2014501' }, source: 'matomo-org/device-detector#5585' },
  { ua: 'grpc-java-okhttp/1.62.2', app: null, device: { framework: 'grpc-java (okhttp)' },
    source: 'format from grpc/grpc-java#1868 (GrpcUtil.getGrpcUserAgent("okhttp", …)); this version as found in decompiled apps in the code corpus' },
  { ua: 'grpc-objc-cfstream/1.56.0 grpc-c/33.0.0', app: null, device: { framework: 'grpc-objc' }, source: 'Mitch528/react-native-grpc#10' },
  { ua: 'prefix grpc-c/44.0.0 (windows; chttp2) suffix', app: null, device: { framework: 'grpc-c' }, source: 'grpc/grpc#38064 (no mobile stack: the words around it are not an app)' },
  { ua: 'Dart/2.0 (dart:io)', app: null, device: { framework: 'Flutter (Dart)' }, source: 'flutter/flutter#17515' },
  { ua: 'Dart/3.1 (dart:io), Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0.0.0 Safari/537.36', app: null,
    source: 'flutter/flutter#135794' },
  { ua: 'Mozilla/5.0 (Linux; Android 4.4.4; SAMSUNG-SM-G900A Build/KTU84P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2272.96 Mobile Safari/537.36', app: null,
    device: { model: 'SAMSUNG-SM-G900A', os: 'Android 4.4.4', framework: 'Chrome' }, source: 'ua-parser/uap-core#38 (Chrome for Android)' },
  { ua: 'Mozilla/5.0 (Linux; Android 6.0.1; SAMSUNG SM-G930F Build/MMB29K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/5.0 Chrome/51.0.2704.106 Mobile Safari/537.36', app: null,
    device: { model: 'SAMSUNG SM-G930F', os: 'Android 6.0.1' }, source: 'browscap/browscap#1152 (Samsung Internet)' },
  { ua: 'Mozilla/5.0 (Android 13; Mobile; rv:123.0) Gecko/123.0 Firefox/123.0', app: null, device: { os: 'Android 13', framework: 'Firefox' },
    source: 'medama-io/go-useragent#11 (Firefox for Android)' },
  { ua: 'Mozilla/5.0 (Mobile; ALCATELOneTouch4012A; rv:18.1) Gecko/18.1 Firefox/18.1', app: null, source: 'mozilla-services/lua_sandbox#53 (Firefox OS)' },
  { ua: 'Mozilla/5.0 (Linux; Android 5.1.1; Nexus 5 Build/LMY48B; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/43.0.2357.65 Mobile Safari/537.36', app: null,
    device: { model: 'Nexus 5', os: 'Android 5.1.1', framework: 'Android WebView' }, source: 'woothee/woothee#33 (a WebView that sent no app suffix)' },
  { ua: 'Mozilla/5.0 (Linux; U; Android 4.1.1; en-gb; Build/KLP) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30', app: null,
    device: { os: 'Android 4.1.1' }, source: 'WhichBrowser/Parser-PHP#143' },
  { ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 10_1 like Mac OS X) AppleWebKit/602.2.14 (KHTML, like Gecko) Mobile/14B72', app: null,
    device: { model: 'iPhone', os: 'iOS 10.1' }, source: 'react-native-device-info/react-native-device-info#142' },
  { ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.130 Safari/537.36', app: null,
    source: 'Alamofire/Alamofire#3060 (desktop Chrome)' },
  { ua: 'Mozilla/5.0 (Android OS 5.1 / API-22 (HUAWEITIT-U02/C579B105); HUAWEI HUAWEI TIT-U02) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/76.0.3809.89 Mobile Safari/537.36 UnityPlayer/2017.4.34f1',
    app: null, device: { model: 'HUAWEI TIT-U02', os: 'Android 5.1', framework: 'Unity' }, source: 'matomo-org/device-detector#6326' },
  { ua: 'Mozilla/5.0 (Android OS 8.1.0 / API-27 (OPM1.171019.026/TB-X304L_S001017_190709_ROW); LENOVO Lenovo TB-X304L) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/76.0.3809.89 Mobile Safari/537.36 UnityPlayer/2017.4.33f1',
    app: null, device: { model: 'Lenovo TB-X304L', os: 'Android 8.1.0', framework: 'Unity' }, source: 'matomo-org/device-detector#6326' },
  { ua: 'WhatsApp/2', app: null, source: 'signalapp/Signal-Android#13522 (Signal\'s link previews borrow WhatsApp\'s name)' },
  { ua: 'WhatsApp/2 (compatible; AnytypeBot/1.0; +https://anytype.io/bot)', app: null, source: 'anyproto/anytype-heart#3258' },
  { ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) WhatsApp/0.2.4240 Chrome/53.0.2785.143 Electron/1.4.12 Safari/537.36', app: null,
    source: 'allinurl/goaccess#808 (WhatsApp Desktop: no phone\'s stack, so nothing is claimed)' },
  { ua: 'Safari/15612.1.29.41.4 CFNetwork/1128.1 Darwin/19.6.0 (x86_64)', app: null, device: { os: 'macOS', framework: 'CFNetwork' }, source: 'nielsbasjes/yauaa#614' },
];

t.test('User-Agents: app id, confidence and device facts', async (t) => {
  for (const row of userAgents) {
    const app = appOfRequest(request([['User-Agent', row.ua]]));
    if (row.app === null) t.equal(app, undefined, `no app: ${row.ua} (${row.source})`);
    else t.match(app, { ...row.app, evidence: /^User-Agent/ }, `${row.app.id} (${row.app.confidence}): ${row.source}`);
    if (row.device === undefined) continue;
    const device = deviceOfRequest([['User-Agent', row.ua]]);
    if (row.device === null) t.equal(device, undefined, `no device: ${row.source}`);
    else t.match(device, { ...row.device, evidence: 'User-Agent' }, `device of ${row.source}`);
  }
  t.ok(userAgents.length >= 40, `${userAgents.length} User-Agent rows`);
});

interface HeaderRow {
  readonly headers: HeaderList;
  readonly app: { id: string; confidence: AppConfidence; evidence: string | RegExp } | null;
  readonly source: string;
}

const headerRows: HeaderRow[] = [
  { headers: [['X-Requested-With', 'com.rovio.angrybirds']], app: { id: 'com.rovio.angrybirds', confidence: 'high', evidence: 'X-Requested-With' },
    source: 'javalite/activeweb#211 (Angry Birds\' WebView)' },
  { headers: [['x-requested-with', 'com.tencent.qq']], app: { id: 'com.tencent.qq', confidence: 'high', evidence: 'X-Requested-With' },
    source: 'mozilla-mobile/focus-android#1196' },
  { headers: [['X-Requested-With', 'com.brekeke.phonedev']], app: { id: 'com.brekeke.phonedev', confidence: 'high', evidence: 'X-Requested-With' },
    source: 'brekekesoftware/brekekephone src/config.ts' },
  { headers: [['X-Requested-With', 'com.android.chrome']], app: { id: 'com.android.chrome', confidence: 'high', evidence: 'X-Requested-With' },
    source: 'mihonapp/mihon#1812 (the spoofed value: we report what the header says)' },
  { headers: [['X-Requested-With', 'XMLHttpRequest']], app: null, source: 'javalite/activeweb#211 (browsers\' JavaScript)' },
  { headers: [['X-Requested-With', '']], app: null, source: 'anthonycr/Lightning-Browser#403 (a blanked header)' },
  { headers: [['X-Android-Package', 'com.example.lab'], ['X-Android-Cert', 'DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09']],
    app: { id: 'com.example.lab', confidence: 'high', evidence: /^X-Android-Package \(signing certificate SHA-1 da39a3ee5e6b4b0d3255bfef95601890afd80709\)$/ },
    source: 'header names: firebase/firebase-android-sdk#2988 and #1646; values ours (the cert is SHA-1 of nothing)' },
  { headers: [['X-Android-Package', 'com.example.lab'], ['X-Android-Cert', 'not a hash']], app: { id: 'com.example.lab', confidence: 'high', evidence: 'X-Android-Package' },
    source: 'as above; a cert that is not a hash is left out of the evidence' },
  { headers: [['X-Ios-Bundle-Identifier', 'com.xxx.xxx']], app: { id: 'com.xxx.xxx', confidence: 'high', evidence: 'X-Ios-Bundle-Identifier' },
    source: 'cdavis-code/google_vision_workspace#23' },
  { headers: [['X-Firebase-Client', 'android-target-sdk/30 android-min-sdk/24 android-installer/com.android.vending fire-core/19.5.0 fire-iid/21.0.1 fire-android/30 device-model/generic_x86 device-brand/Android android-platform/ fire-fcm/20.1.7_1p device-name/sdk_phone_x86 fire-installations/16.3.5']],
    app: null, source: 'a Firebase Installations client in the code corpus (find_string "android-installer/"); installer filled in by us: the installer is not the app' },
  { headers: [['X-Firebase-GMPID', '1:722550545529:android:82c62205f0ef0ea96608a8']], app: null, source: 'tweaselORG/TrackHAR#73 (a Firebase app id, not a package)' },
  { headers: [['X-Goog-Api-Client', 'gl-java/ fire/20.1.0']], app: null, source: 'header name: firebase/firebase-android-sdk; value ours' },
  { headers: [['X-Requested-With', 'XMLHttpRequest'], ['User-Agent', 'Dalvik/2.1.0 (Linux; U; Android 5.1.1; hi6210sft Build/LMY47X) org.odk.collect.android/v1.5.1']],
    app: { id: 'org.odk.collect.android', confidence: 'high', evidence: 'User-Agent' }, source: 'getodk/collect#800, with a browser header beside it' },
  { headers: [['X-Requested-With', 'com.rovio.angrybirds'], ['User-Agent', 'okhttp/4.9.2']], app: { id: 'com.rovio.angrybirds', confidence: 'high', evidence: 'X-Requested-With' },
    source: 'headers before a library-only User-Agent' },
];

t.test('package headers: high, and look-alikes name no app', async (t) => {
  for (const row of headerRows) {
    const app = appOfRequest(request(row.headers));
    if (row.app === null) t.equal(app, undefined, `no app: ${row.source}`);
    else t.match(app, row.app, `${row.app.id}: ${row.source}`);
  }
});

interface BodyRow {
  readonly body: string;
  readonly type?: string;
  readonly url?: string;
  readonly app: { id: string; confidence: AppConfidence; evidence: string } | null;
  readonly source: string;
}

const bodyRows: BodyRow[] = [
  { body: 'app_token=abc123def456&package_name=com.example.game&app_version=1.2.0&gps_adid=38400000-8cf0-11bd-b23e-10b96e40000d', type: 'application/x-www-form-urlencoded',
    app: { id: 'com.example.game', confidence: 'medium', evidence: 'body:package_name' }, source: 'keys: tweaselORG/TrackHAR src/adapters/adjust.ts; values ours' },
  { body: 'bundle_id=com.example.game&idfv=6F9619FF-8B86-D011-B42D-00C04FC964FF', type: 'application/x-www-form-urlencoded',
    app: { id: 'com.example.game', confidence: 'medium', evidence: 'body:bundle_id' }, source: 'tweaselORG/TrackHAR src/adapters/adjust.ts' },
  { body: '{"id":"1","imp":[{"id":"1"}],"app":{"name":"Example Game","bundle":"com.example.game","ver":"1.2"},"device":{"ifa":"x"}}', type: 'application/json',
    app: { id: 'com.example.game', confidence: 'medium', evidence: 'body:bundle' }, source: 'OpenRTB 2.6 app.bundle, as listed in tweaselORG/TrackHAR src/adapters/common/openrtb.ts' },
  { body: '{"packageName":"com.example.lab","platformVersion":"30","appInstanceId":"f1d2"}', type: 'application/json',
    app: { id: 'com.example.lab', confidence: 'medium', evidence: 'body:packageName' }, source: 'Iterable/iterable-swift-sdk#107 (bundle id sent as packageName); values ours' },
  { body: '{"ios_bundle":"com.example.lab","device_type":0}', type: 'application/json',
    app: { id: 'com.example.lab', confidence: 'medium', evidence: 'body:ios_bundle' }, source: 'OneSignal iOS SDK OSUserState.m (ios_bundle), as quoted in the code corpus' },
  { body: '', url: 'https://app.adjust.com/attribution?package_name=com.example.game&gps_adid=x',
    app: { id: 'com.example.game', confidence: 'medium', evidence: 'query:package_name' }, source: 'tweaselORG/TrackHAR src/adapters/adjust.ts (query-string adapter)' },
  { body: '{"app_name":"Gallery","sdk_version":"3.1"}', type: 'application/json', app: { id: 'Gallery', confidence: 'low', evidence: 'body:app_name' },
    source: 'ours: an app name that is not a package' },
  { body: '{"app_name":"Gallery","package":"com.miui.gallery"}', type: 'application/json', app: { id: 'com.miui.gallery', confidence: 'medium', evidence: 'body:package' },
    source: 'ours (the package of phonehome issue #22): the package beats the name' },
  // look-alikes
  { body: '{"name":"my-server","version":"1.0.0","package":"express","dependencies":{"express":"^4.18.2"}}', type: 'application/json', app: null,
    source: 'npm package.json shape; "express" is not package-shaped' },
  { body: '{fid: \'eicruEJCM8UPXoL66P16PG\', appId: \'1:722550545529:android:82c62205f0ef0ea96608a8\', authVersion: \'FIS_v2\'}', type: 'application/json', app: null,
    source: 'tweaselORG/TrackHAR#73 (Firebase Installations, a JavaScript body)' },
  { body: '{"fid":"ejj4195USJykejcWxX3K3J","appId":"1:722550545529:android:82c62205f0ef0ea96608a8","authVersion":"FIS_v2","sdkVersion":"a:17.0.0"}', type: 'application/json', app: null,
    source: 'tweaselORG/TrackHAR#73 (the SDK\'s Firebase app id is not the app)' },
  { body: 'app_id=ca-app-pub-3940256099942544~3347511713&format=banner', type: 'application/x-www-form-urlencoded', app: null,
    source: 'AdMob\'s documented sample app id: an ad SDK\'s own id' },
  { body: '{"app_id":"5f7a9c2e1b3d4a0012345678","sdk":"ads"}', type: 'application/json', app: null, source: 'ours: a hex SDK key under app_id' },
  { body: 'Install com.example.app from the store, then open example.com and read index.html', type: 'text/plain', app: null, source: 'ours: package-ish words in prose' },
  { body: '{"sdks":[{"package":"com.appsflyer","url":"https://t.appsflyer.com","lastSync":1413131405000},{"package":"com.adjust.sdk","url":"https://app.adjust.com","lastSync":1413131405000}]}',
    type: 'application/json', app: null, source: 'phonehome test/helpers/corpus-round2.ts (a list of SDKs: their packages are not the app)' },
  { body: '{"apps":[{"packageName":"com.whatsapp","firstInstallTime":1413131405000},{"packageName":"com.spotify.music","firstInstallTime":1413131405000}]}',
    type: 'application/json', app: null, source: 'package names from phonehome test/helpers/corpus-round2.ts (an installed-apps inventory names other apps)' },
  { body: '{"package_name":"com.example.game","event":{"package_name":"com.example.game","name":"open"}}', type: 'application/json',
    app: { id: 'com.example.game', confidence: 'medium', evidence: 'body:package_name' }, source: 'ours: the same package twice is still one app' },
  { body: '{"package":"api.github.com","bundle_id":"index.html"}', type: 'application/json', app: null, source: 'ours: host names and files are not packages' },
];

t.test('bodies and query strings: package-shaped ids medium, names low, look-alikes nothing', async (t) => {
  for (const row of bodyRows) {
    const app = appOfRequest(request(row.type ? [['Content-Type', row.type]] : [], row.body, row.url));
    if (row.app === null) t.equal(app, undefined, `no app: ${row.source}`);
    else t.match(app, row.app, `${row.app.id}: ${row.source}`);
  }
});

t.test('bodies are read only when they are text, uncompressed, and within the scanned prefix', async (t) => {
  const json = '{"package_name":"com.example.game"}';
  t.equal(appOfRequest(request([['Content-Type', 'application/octet-stream']], json)), undefined, 'a binary type is not read');
  t.equal(appOfRequest(request([['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], json)), undefined, 'a compressed body is not read');
  t.match(appOfRequest(request([], json)), { id: 'com.example.game' }, 'an untyped body without NUL bytes is read');
  t.equal(appOfRequest(request([], `\u0000${json}`)), undefined, 'an untyped body with NUL bytes is not');
  const late = `{"pad":"${'x'.repeat(70 * 1024)}",${json.slice(1)}`;
  t.equal(appOfRequest(request([['Content-Type', 'application/json']], late)), undefined, 'an id past the first 64 KiB is not seen');
  const bytes = Buffer.concat([Buffer.from('{"package_name":"com.example.game","x":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
  const nonUtf8: HttpRequestRecord = { ...request([['Content-Type', 'application/json']]), body: { bytes, totalBytes: bytes.length, truncated: false } };
  t.match(appOfRequest(nonUtf8), { id: 'com.example.game' }, 'invalid UTF-8 elsewhere in the body does not stop the scan');
  t.match(appOfRequest(request([['User-Agent', 'Instagram/123 CFNetwork/1404.0.5 Darwin/22.3.0'], ['Content-Type', 'application/json']], '{"bundle_id":"com.burbn.instagram"}')),
    { id: 'com.burbn.instagram', confidence: 'medium', evidence: 'body:bundle_id' }, 'at equal strength a package beats a CFNetwork name');
});

t.test('package names: what they look like', async (t) => {
  for (const yes of ['com.miui.gallery', 'mark.via', 'tv.twitch.android.app', 'com.alamofire.iOS-Example', 'org.edx.mobile', 'de.zdf.app', 'com.example_1.a'])
    t.ok(isPackageName(yes), yes);
  for (const no of ['express', 'XMLHttpRequest', 'example.com', 'www.example.org', 'api.github.com', 'index.html', 'libfoo.so', '1.0.09', 'com..x', '.com.x', 'com.x.',
    'com.-x', 'com.x y', `com.${'a'.repeat(200)}`, '1:722550545529:android:82c6', 'v1.5.1-10-ge20fa334-dirty'])
    t.notOk(isPackageName(no), no);
});

t.test('hostile values: huge, odd and broken headers never throw and name no app', async (t) => {
  const huge = 'com.example.' + 'a'.repeat(1_000_000);
  const rows: HeaderList[] = [
    [['X-Requested-With', huge]],
    [['User-Agent', huge]],
    [['User-Agent', '('.repeat(100_000)]],
    [['User-Agent', '['.repeat(50_000) + 'FB_IAB/FB4A;']],
    [['User-Agent', '%E0%A4%A CFNetwork/1 Darwin/22.0.0']],
    [['User-Agent', 'a/'.repeat(100_000)]],
    [['User-Agent', '\u0000\u0001 CFNetwork/1 Darwin/22.0.0']],
    [['X-Android-Cert', 'ff'.repeat(100_000)], ['X-Android-Package', 'not a package']],
  ];
  for (const headers of rows) {
    t.doesNotThrow(() => appOfRequest(request(headers)));
    t.doesNotThrow(() => deviceOfRequest(headers));
  }
  t.equal(appOfRequest(request([['X-Requested-With', huge]])), undefined, 'a huge header is no package');
  t.equal(appOfRequest(request([['User-Agent', '\u0000\u0001 CFNetwork/1 Darwin/22.0.0']])), undefined, 'control characters are no app name');
  t.equal(appOfRequest(request([['User-Agent', '%E0%A4%A CFNetwork/1 Darwin/22.0.0']])), undefined, 'a broken percent-encoding is no app name');
  t.match(appOfRequest(request([['User-Agent', '%E6%B7%98%E5%AE%9D/1 CFNetwork/1 Darwin/22.0.0']])), { id: '\u6dd8\u5b9d', confidence: 'medium' }, 'a percent-encoded name is decoded');
  t.equal(deviceOfRequest([]), undefined, 'no headers, no facts');
  t.match(deviceOfRequest([['X-Unity-Version', '2019.4.40f1']]), { framework: 'Unity', evidence: 'X-Unity-Version' }, 'Unity says so in its own header');
  const start = process.hrtime.bigint();
  appOfRequest(request([['User-Agent', 'x/1 '.repeat(500_000)], ['Content-Type', 'application/x-www-form-urlencoded']], 'a=b&'.repeat(1_000_000)));
  t.ok(process.hrtime.bigint() - start < 2_000_000_000n, 'huge inputs are scanned within bounds');
});

t.test('random User-Agents built from real fragments: never a throw, every high id package-shaped, browsers never an app', async (t) => {
  let seed = 22;
  const next = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const fragments = ['Mozilla/5.0', '(Linux; Android 10; K)', 'AppleWebKit/537.36', '(KHTML, like Gecko)', 'Chrome/114.0.0.0', 'Mobile', 'Safari/537.36', 'Dalvik/2.1.0',
    '(Linux; U; Android 4.4.2; HM NOTE 1W MIUI/V5.2.1.0.KHFCNCB)', 'okhttp/4.9.2', 'CFNetwork/1404.0.5', 'Darwin/22.3.0', '[FB_IAB/FB4A;FBAV/1;]', '(', ')', '[', ']', ';', ',',
    '%E6%B7', 'com.example.app/1.0', '(com.example.app; build:1; iOS 16.0)', 'Alamofire/5.6', 'Dart/2.19', '(dart:io)', 'grpc-java-okhttp/1.62.2', '/', 'a.b', '\u0000', 'é'];
  const browserOnly = fragments.slice(0, 7);
  for (let i = 0; i < 2_000; i++) {
    const ua = Array.from({ length: 1 + next(12) }, () => fragments[next(fragments.length)]).join(next(3) === 0 ? '' : ' ');
    try {
      const found = appOfRequest(request([['User-Agent', ua]]));
      deviceOfRequest([['User-Agent', ua]]);
      if (found?.confidence === 'high' && !isPackageName(found.id)) t.fail(`high but not a package: ${found.id} from ${ua}`);
    } catch (error) {
      t.fail(`threw on ${JSON.stringify(ua)}: ${String(error)}`);
    }
  }
  for (let i = 0; i < 500; i++) {
    const ua = Array.from({ length: 1 + next(8) }, () => browserOnly[next(browserOnly.length)]).join(' ');
    const app = appOfRequest(request([['User-Agent', ua]]));
    if (app) t.fail(`a browser's User-Agent named an app: ${ua}`);
  }
  t.pass('2,500 random User-Agents');
});
