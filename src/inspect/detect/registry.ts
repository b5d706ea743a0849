// The registry: an explicit, ordered list of the detectors that run on every layer.

import { appListDetector } from './app-list.js';
import { browsingDetector } from './browsing.js';
import { callLogDetector } from './call-log.js';
import { contactDetector } from './contact.js';
import { credentialDetector } from './credential.js';
import { dnsIdentifierDetector } from '../dns/dns-identifier-detector.js';
import type { Detector } from './detector.js';
import { identifierDetector } from './identifier.js';
import { locationDetector } from './location.js';
import { mailDetector } from './mail.js';
import { photoDetector } from './photo.js';
import { smsDetector } from './sms.js';

export const defaultDetectors: readonly Detector[] = [
  photoDetector, smsDetector, mailDetector, credentialDetector,
  contactDetector, callLogDetector, identifierDetector, locationDetector,
  browsingDetector, appListDetector, dnsIdentifierDetector,
];
