// `phonehome rules check [DIR]`: loads every rule file strictly and lists the rules, or names the
// first bad one as file:line (a ConfigError, exit 1).

import path from 'node:path';
import { defaultRulesDir } from '../app/options.js';
import { loadRules } from '../enrich/rules.js';
import type { Output } from './capture-command.js';

export function runRulesCheck(dirGiven: string | undefined, io: Output): number {
  const dir = path.resolve(dirGiven ?? defaultRulesDir());
  const rules = loadRules(dir, true);
  io.out(`${rules.length} rule(s) in ${new Set(rules.map((r) => r.source)).size} file(s) in ${dir}: OK`);
  for (const rule of rules) io.out(`  ${rule.name}  (${path.basename(rule.source)})`);
  return 0;
}
