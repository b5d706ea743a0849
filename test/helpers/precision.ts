// Precision and recall of the detectors over the corpus, per category: how many personal items
// were found and missed, and how many honest look-alikes raised a finding at medium or above.

import type { FindingDraft } from '../../src/model/finding.js';
import type { Flow } from '../../src/model/flow.js';

export interface CategoryScore { category: string; positives: number; found: number; missed: number; falseAlarms: number }

export function scoreCorpus(
  positives: ReadonlyArray<{ flow: Flow; category: string; summary: RegExp }>,
  negatives: ReadonlyArray<{ flow: Flow }>,
  inspect: (flow: Flow) => readonly FindingDraft[],
): CategoryScore[] {
  const scores = new Map<string, CategoryScore>();
  const score = (category: string): CategoryScore => {
    let s = scores.get(category);
    if (!s) scores.set(category, (s = { category, positives: 0, found: 0, missed: 0, falseAlarms: 0 }));
    return s;
  };
  for (const row of positives) {
    const s = score(row.category);
    s.positives++;
    if (inspect(row.flow).some((d) => d.category === row.category && row.summary.test(d.summary))) s.found++;
    else s.missed++;
  }
  for (const row of negatives) {
    for (const d of inspect(row.flow)) if (d.severity === 'medium' || d.severity === 'high' || d.severity === 'critical') score(d.category).falseAlarms++;
  }
  return [...scores.values()].sort((a, b) => b.positives - a.positives || a.category.localeCompare(b.category));
}

/** The table as Markdown, as the README shows it. */
export function scoreTable(scores: readonly CategoryScore[], negatives: number): string {
  const lines = ['| category | items | found | missed | false alarms | recall |', '| --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const s of scores) lines.push(`| ${s.category} | ${s.positives} | ${s.found} | ${s.missed} | ${s.falseAlarms} | ${s.positives === 0 ? '—' : `${Math.round((s.found / s.positives) * 100)} %`} |`);
  const total = scores.reduce((a, s) => ({ positives: a.positives + s.positives, found: a.found + s.found, missed: a.missed + s.missed, falseAlarms: a.falseAlarms + s.falseAlarms }), { positives: 0, found: 0, missed: 0, falseAlarms: 0 });
  lines.push(`| **all** (${negatives} look-alikes) | ${total.positives} | ${total.found} | ${total.missed} | ${total.falseAlarms} | ${Math.round((total.found / total.positives) * 100)} % |`);
  return lines.join('\n');
}
