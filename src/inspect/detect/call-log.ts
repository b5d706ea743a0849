// Call logs: Android CallLog.Calls rows and their renamed variants — a number, a duration in
// seconds, and a date or a call type (1–7: incoming, outgoing, missed, voicemail, rejected,
// blocked, answered elsewhere).

import type { FindingDraft } from '../../model/finding.js';
import type { Detector, View } from './detector.js';
import { maskNumber } from './summary-text.js';
import { collectRecords } from './record-walk.js';

const NUMBER_KEYS = new Set(['number', 'phone', 'phone_number', 'num', 'caller', 'callee', 'address', 'formatted_number', 'normalized_number']);
const DURATION_KEYS = new Set(['duration', 'dur', 'seconds', 'call_duration', 'length']);
const DATE_KEYS = new Set(['date', 'time', 'timestamp', 'start', 'start_time', 'call_date']);
const TYPE_KEYS = new Set(['type', 'call_type', 'calltype', 'direction']);
const CALL_TYPES = /^(incoming|outgoing|missed|voicemail|rejected|blocked|answered_externally|in|out)$/i;

export interface CallRecord { number: string; duration: number; date?: string; type?: string }

function callOf(object: Record<string, unknown>): CallRecord | undefined {
  let number: string | undefined;
  let duration: number | undefined;
  let date: string | undefined;
  let type: string | undefined;
  for (const [rawKey, value] of Object.entries(object)) {
    const key = rawKey.toLowerCase();
    if (NUMBER_KEYS.has(key) && typeof value === 'string' && /^\+?[\d\s().-]{3,20}$/.test(value.trim()) && (value.match(/\d/g) ?? []).length >= 3) number ??= value.trim();
    else if (DURATION_KEYS.has(key) && (typeof value === 'number' || (typeof value === 'string' && /^\d{1,6}$/.test(value))) && Number(value) < 86_400 * 2) duration ??= Number(value);
    else if (DATE_KEYS.has(key)) {
      const n = typeof value === 'string' && /^\d{10,13}$/.test(value) ? Number(value) : value;
      if (typeof n === 'number' && n >= 1e12 && n < 2e12) date ??= new Date(n).toISOString();
      else if (typeof n === 'number' && n >= 1e9 && n < 2e9) date ??= new Date(n * 1000).toISOString();
    } else if (TYPE_KEYS.has(key) && ((typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 7) || (typeof value === 'string' && (CALL_TYPES.test(value) || /^[1-7]$/.test(value))))) type ??= String(value);
  }
  return number && duration !== undefined && (date || type) ? { number, duration, ...(date ? { date } : {}), ...(type ? { type } : {}) } : undefined;
}

export const callLogDetector: Detector = {
  id: 'call-log',
  category: 'call-log',
  gate(view) {
    return view.structured !== undefined;
  },
  detect(view: View): FindingDraft[] {
    const calls = collectRecords(view.structured, callOf, 10_000, 12);
    if (calls.length === 0) return [];
    const numbers = new Set(calls.map((c) => c.number));
    return [{
      category: 'call-log', severity: 'high', direction: view.direction, detector: 'call-log/records',
      summary: `${calls.length} call${calls.length > 1 ? 's' : ''} with ${numbers.size === 1 ? maskNumber(calls[0]!.number) : `${numbers.size} numbers`}, ${calls.reduce((n, c) => n + c.duration, 0)} s in all`,
      evidence: { path: view.path, bytes: view.bytes.length, excerpt: `${calls[0]!.number}, ${calls[0]!.duration} s` },
      details: { count: calls.length, calls: calls.slice(0, 20) },
    }];
  },
};
