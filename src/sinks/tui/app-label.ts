// How the terminal UI names the app behind a flow or finding: its display name when the evidence
// gave one, else its id (an Android package, or what a User-Agent calls the app), with a mark for
// how sure the attribution is. The id comes from request headers and bodies, so it is untrusted
// text: it goes through toDisplay() here, before any column is cut from it.

import type { AppAttribution, AppConfidence } from '../../model/flow.js';
import { toDisplay } from '../../util/sanitize.js';

/** The longest app label kept (package ids run to ~60 characters; a header can carry anything). */
const MAX_LABEL = 80;

/** Nothing after a sure attribution; `~` when likely, `?` when guessed. */
export const CONFIDENCE_MARK: Readonly<Record<AppConfidence, string>> = { high: '', medium: '~', low: '?' };

/** The help screen's lines about the app and company columns (kept beside the marks they explain). */
export const APP_HELP = [
  'App column: the app that sent it (its name, else its package or User-Agent name). No mark: high confidence',
  '(the app named itself, e.g. X-Requested-With); ~ medium; ? low (a guess, e.g. a User-Agent shape or a body field).',
  'enter shows the evidence. Beside the country: the company behind the server, what its service does, and',
  '"first party" when it is the app\'s own vendor. f with app:NAME or entity:NAME filters on them; a steps through the apps.',
];

export function appLabel(app: AppAttribution | undefined): string {
  if (!app) return '';
  const name = app.name?.trim() || app.id;
  return `${toDisplay(name, MAX_LABEL)}${CONFIDENCE_MARK[app.confidence] ?? '?'}`;
}

/** The app's one-line account for a detail view: label, id, version, confidence and evidence. */
export function appDetail(app: AppAttribution): string {
  const id = app.name && app.name !== app.id ? ` (${app.id})` : '';
  return toDisplay(`app: ${app.name ?? app.id}${id}${app.version ? ` ${app.version}` : ''}, ${app.confidence} confidence, from ${app.evidence}`, 400);
}

/**
 * Cuts a label to `width`. A package id loses its leading parts first (`…miui.gallery`: the end is
 * what tells apps apart); a name, its end. The confidence mark always stays.
 */
export function fitLabel(label: string, width: number): string {
  if (width <= 0) return '';
  if (label.length <= width) return label.padEnd(width);
  const mark = /[~?]$/.test(label) ? label.slice(-1) : '';
  const bare = mark ? label.slice(0, -1) : label;
  const room = Math.max(0, width - 1 - mark.length); // what is left beside the … and the mark
  if (/^[\w-]+(\.[\w-]+)+$/.test(bare)) {
    const parts = bare.split('.');
    for (let from = 1; from < parts.length; from++) {
      const tail = parts.slice(from).join('.');
      if (tail.length <= room) return `…${tail}${mark}`.padEnd(width);
    }
    return `${parts.at(-1)!.slice(0, room)}…${mark}`;
  }
  return `${bare.slice(0, room).trimEnd()}…${mark}`.padEnd(width);
}
