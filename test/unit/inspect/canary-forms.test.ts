// The forms a canary is searched in (issue #23, planted bugs): a planted location is also looked
// for as each coordinate to four and three decimals, and only a location is; the UCS-2 form of
// SMS PDUs is made for texts, names and mail subjects only.

import t from 'tap';
import { canaryVariants } from '../../../src/inspect/canary/canary-variants.js';
import type { CanaryDefinition } from '../../../src/inspect/canary/canary-file.js';

const transforms = (canary: Omit<CanaryDefinition, 'category'>): string[] => canaryVariants({ category: 'location', ...canary } as CanaryDefinition).map(([, v]) => v.transform);
const forms = (canary: Omit<CanaryDefinition, 'category'>): string[] => canaryVariants({ category: 'location', ...canary } as CanaryDefinition).map(([bytes]) => bytes.toString());

t.test('a location canary is also each coordinate to four and three decimals', async (t) => {
  const planted = forms({ label: 'home', type: 'location', value: '48.853012, 2.349902' });
  for (const form of ['48.853012, 2.349902', '48.8530', '2.3499', '48.853', '2.350']) t.ok(planted.includes(form), form);
  t.ok(transforms({ label: 'home', type: 'location', value: '48.853012, 2.349902' }).includes('latitude to 4 decimals'));
  const text = forms({ label: 'note', type: 'text', value: '48.853012, 2.349902' });
  t.notOk(text.includes('48.8530'), 'the same digits as text: no coordinate forms');
  for (const value of ['48.853012, east', 'north, 2.349902', '48.853012']) {
    const half = transforms({ label: 'home', type: 'location', value });
    t.notOk(half.some((v) => v.includes('decimals')), `${value}: not a pair of numbers, no coordinate forms`);
  }
});

t.test('the UCS-2 hex form is for SMS texts, names and mail subjects only', async (t) => {
  const ucs2 = (type: CanaryDefinition['type']): boolean => transforms({ label: 'x', type, value: 'Rendez-vous' }).some((v) => v.includes('UCS-2'));
  t.ok(ucs2('sms-text'));
  t.ok(ucs2('name'));
  t.ok(ucs2('mail-subject'));
  t.notOk(ucs2('text'));
  t.notOk(ucs2('email'));
});
