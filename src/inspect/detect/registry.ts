// The registry: an explicit, ordered list of the detectors that run on every layer.
// Contacts, call logs, identifiers, location and canaries (issue #4) are added here.

import { credentialDetector } from './credential.js';
import type { Detector } from './detector.js';
import { mailDetector } from './mail.js';
import { photoDetector } from './photo.js';
import { smsDetector } from './sms.js';

export const defaultDetectors: readonly Detector[] = [photoDetector, smsDetector, mailDetector, credentialDetector];
