// `npm run bench -- [--only a,b] [--rounds N] [--detection] [--phonehome-only]`, read into one
// object; a wrong option is a one-line error naming what is allowed.

import { SUBJECT_IDS, type SubjectId } from './subjects.js';

export interface BenchOptions {
  /** The subjects to measure, in the table's order (direct is always measured, as the reference). */
  readonly subjects: readonly SubjectId[];
  readonly rounds: number;
  /** The detection engine's line alone. */
  readonly detectionOnly: boolean;
}

const ALIASES: Record<string, SubjectId> = { pipe: 'bare-pipe', http: 'bare-http', mitmdump: 'mitmproxy' };

/**
 * Measured unless --only says otherwise: the five of the README's table. Two proxy loops are asked
 * for by name (--only phonehome,phonehome-threads-2): on two cores they only say what the hand-off
 * costs, and every round would take a third longer.
 */
const DEFAULT_SUBJECTS = SUBJECT_IDS.filter((id) => id !== 'phonehome-threads-2');

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let subjects: SubjectId[] = [...DEFAULT_SUBJECTS];
  let rounds = 3;
  let detectionOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined || next.startsWith('--')) throw new Error(`bench: ${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--only': {
        const wanted = value().split(',').map((name) => name.trim().toLowerCase()).filter(Boolean).map((name) => ALIASES[name] ?? name);
        const unknown = wanted.filter((name) => !(SUBJECT_IDS as readonly string[]).includes(name));
        if (unknown.length > 0 || wanted.length === 0) throw new Error(`bench: --only takes ${SUBJECT_IDS.join(', ')} (comma-separated), not "${unknown.join(',') || '(nothing)'}"`);
        subjects = SUBJECT_IDS.filter((id) => wanted.includes(id));
        break;
      }
      case '--rounds': {
        const text = value();
        rounds = Number(text);
        if (!/^\d+$/.test(text) || rounds < 1 || rounds > 20) throw new Error(`bench: --rounds takes a whole number from 1 to 20, not "${text}"`);
        break;
      }
      case '--phonehome-only':
        subjects = ['phonehome'];
        break;
      case '--detection':
        detectionOnly = true;
        break;
      default:
        throw new Error(`bench: unknown option "${arg}" (known: --only LIST, --rounds N, --phonehome-only, --detection)`);
    }
  }
  return { subjects, rounds, detectionOnly };
}
