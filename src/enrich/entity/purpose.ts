// What a destination's service does, in one short vocabulary shared by our mobile table and the
// tracker database, so rules (`purpose:`), the TUI and the report speak the same words.
//
//   advertising           ad networks, ad exchanges, ad mediation SDKs
//   analytics             usage analytics, attribution and measurement (Umeng, Firebase Analytics, AppsFlyer)
//   crash reporting       crash and error collection (Crashlytics, Bugly, Sentry, Bugsnag)
//   push                  push-message channels (FCM, APNs, JPush, Getui, MiPush)
//   vendor cloud          the device maker's, the platform's (Google Play services, iCloud) or the app
//                         maker's own back end: accounts, sync, stores, updates
//   social                social networks and their widgets and SDKs
//   customer interaction  chat, support and feedback widgets
//   hosting               CDNs, storage and generic cloud APIs
//   consent               consent managers
//   media player          audio and video players
//   utilities             other helper services (fonts, maps, captchas, tag delivery)
//   adult advertising     advertising for adult sites
//   misc                  what the data names but does not place in a category

export const PURPOSES = [
  'advertising',
  'analytics',
  'crash reporting',
  'push',
  'vendor cloud',
  'social',
  'customer interaction',
  'hosting',
  'consent',
  'media player',
  'utilities',
  'adult advertising',
  'misc',
] as const;

export type Purpose = (typeof PURPOSES)[number];

// Ghostery's trackerdb categories (its `categories` keys) onto ours. `extensions` are browser
// extensions' own services: nothing a phone has, so they say no more than misc.
const TRACKERDB_CATEGORIES: Readonly<Record<string, Purpose>> = {
  advertising: 'advertising',
  audio_video_player: 'media player',
  consent: 'consent',
  customer_interaction: 'customer interaction',
  extensions: 'misc',
  hosting: 'hosting',
  misc: 'misc',
  pornvertising: 'adult advertising',
  site_analytics: 'analytics',
  social_media: 'social',
  utilities: 'utilities',
};

/** Our purpose for a trackerdb category; a category a newer release adds reads as misc. */
export function purposeOfTrackerdbCategory(category: unknown): Purpose {
  return (typeof category === 'string' && Object.hasOwn(TRACKERDB_CATEGORIES, category) && TRACKERDB_CATEGORIES[category]) || 'misc';
}
