// The registry: an explicit, ordered list of the detectors that run on every view.
// Detectors for photos, SMS, mail (issue #3) and the other categories (issue #4) are added here.

import type { Detector } from './detector.js';

export const defaultDetectors: readonly Detector[] = [];
