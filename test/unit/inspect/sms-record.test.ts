// The SMS record score at its boundary: exactly 3 is an SMS, 2 is not. A detector made one field
// stricter (or looser) fails here, where the corpus rows, all comfortably above, would not notice.

import t from 'tap';
import { smsRecordOf } from '../../../src/inspect/detect/sms.js';

const body = 'Rendez-vous demain';
const rows: Array<[string, Record<string, unknown>, boolean]> = [
  ['an international number under an SMS key and a date: 2 + 1', { address: '+33612345678', body, date: 1413131405000 }, true],
  ['the same without the date: 2 + 0', { address: '+33612345678', body }, false],
  ['a national number under an SMS key (1 + 1) and a box type', { address: '0612345678', body, type: 1 }, true],
  ['a national number under an SMS key, nothing else', { address: '0612345678', body }, false],
  ['an international number under a weak key (2) and a read flag', { to: '+33612345678', body, read: 1 }, true],
  ['a national number under a weak key (0) and two supports', { to: '0612345678', body, date: 1413131405000, type: 1 }, false],
  ['a word under a weak key (analytics navigation)', { to: 'settings', message: 'tap', timestamp: 1732700000000 }, false],
  ['no text body at all', { address: '+33612345678', date: 1413131405000, type: 1 }, false],
  ['a thread id counts as support', { sender: '+33612345678', text: body, thread_id: '7' }, true],
  ['a box type outside 1–6 does not', { sender: '+33612345678', text: body, type: 9 }, false],
];

for (const [name, record, sms] of rows) {
  t.equal(smsRecordOf(record) !== undefined, sms, name);
}
