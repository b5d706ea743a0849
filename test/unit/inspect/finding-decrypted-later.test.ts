// Findings of flows `decrypt` made say so ("decryptedLater": true, the contract); no other finding does.

import t from 'tap';
import { FindingFactory } from '../../../src/inspect/finding-factory.js';
import type { FindingDraft } from '../../../src/model/finding.js';
import { makeFlow } from '../../helpers/flows.js';

const draft: FindingDraft = { category: 'photo', severity: 'high', direction: 'request', detector: 'photo/jpeg', summary: 'a JPEG photo', evidence: { path: ['body', 'multipart:file', 'jpeg'], bytes: 10 }, details: {} };

t.test('a decrypted-later flow gives decryptedLater findings; look-alike tags do not', async (t) => {
  const factory = new FindingFactory(7);
  const later = factory.fromDraft(draft, makeFlow({ tags: ['decrypted-later', 'decrypted-later-of:fl-000002'] }));
  t.equal(later.decryptedLater, true);
  t.equal(later.id, 'f-000008');
  for (const tags of [['decrypted'], ['decrypted-later-of:fl-000002'], ['not-decrypted-later'], []]) {
    const live = factory.fromDraft(draft, makeFlow({ tags }));
    t.notOk('decryptedLater' in live, `tags ${JSON.stringify(tags)}`);
  }
});
