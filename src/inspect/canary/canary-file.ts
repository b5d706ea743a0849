// --canaries FILE: the values a researcher planted on the device, in YAML or JSON:
//
//   canaries:
//     - { label: my-number, type: phone, value: "+33612345678" }
//     - { label: planted-sms, type: sms-text, value: "Rendez-vous demain 18h" }
//     - { label: beach-photo, type: photo, file: photos/IMG_0001.jpg }
//
// Types: phone, email, imei, imsi, iccid, android-id, ad-id, name, sms-text, mail-subject,
// mail-text, text, location ("48.8530,2.3499"), photo (a file, relative to the canaries file).

import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../../util/errors.js';
import type { Category } from '../../model/finding.js';

export const canaryTypes = ['phone', 'email', 'imei', 'imsi', 'iccid', 'android-id', 'ad-id', 'name', 'sms-text', 'mail-subject', 'mail-text', 'text', 'location', 'photo'] as const;
export type CanaryType = (typeof canaryTypes)[number];

export const CATEGORY_OF: Record<CanaryType, Category> = {
  phone: 'identifier', email: 'identifier', imei: 'identifier', imsi: 'identifier', iccid: 'identifier', 'android-id': 'identifier', 'ad-id': 'identifier',
  name: 'contact', 'sms-text': 'sms', 'mail-subject': 'mail', 'mail-text': 'mail', text: 'identifier', location: 'location', photo: 'photo',
};

export interface CanaryDefinition {
  readonly label: string;
  readonly type: CanaryType;
  readonly category: Category;
  /** The planted value (all types but photo). */
  readonly value?: string;
  /** The planted photo's bytes (type photo). */
  readonly photo?: Buffer;
}

/** Reads and validates a canaries file; errors name the file and line. */
export function loadCanaries(file: string): CanaryDefinition[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`--canaries ${file}: ${(error as Error).message}`);
  }
  const document = parseDocument(text, { prettyErrors: false });
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : text.slice(0, offset).split('\n').length);
  if (document.errors.length > 0) {
    const error = document.errors[0]!;
    throw new ConfigError(`${file}:${lineOf(error.pos[0])}: ${error.message.split('\n')[0]}`);
  }
  const root = document.toJS() as unknown;
  const list = Array.isArray(root) ? root : (root as { canaries?: unknown } | null)?.canaries;
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${file}:1: expected a list of canaries (a top-level "canaries:" list)`);
  const items = (document.get('canaries', true) ?? document.contents) as { items?: Array<{ range?: [number, number, number] }> } | undefined;
  const labels = new Set<string>();
  return list.map((raw, index): CanaryDefinition => {
    const line = lineOf(items?.items?.[index]?.range?.[0]);
    const where = `${file}:${line}`;
    if (!raw || typeof raw !== 'object') throw new ConfigError(`${where}: each canary is a map with label, type and value (or file)`);
    const { label, type, value, file: photoFile } = raw as Record<string, unknown>;
    if (typeof label !== 'string' || !/^[\w.-]{1,64}$/.test(label)) throw new ConfigError(`${where}: label must be 1-64 letters, digits, '.', '_' or '-'`);
    if (labels.has(label)) throw new ConfigError(`${where}: label ${label} is used twice`);
    labels.add(label);
    if (typeof type !== 'string' || !(canaryTypes as readonly string[]).includes(type)) throw new ConfigError(`${where}: type must be one of ${canaryTypes.join(', ')}`);
    const canaryType = type as CanaryType;
    if (canaryType === 'photo') {
      if (typeof photoFile !== 'string') throw new ConfigError(`${where}: a photo canary needs file: PATH`);
      const resolved = path.resolve(path.dirname(file), photoFile);
      try {
        return { label, type: canaryType, category: 'photo', photo: fs.readFileSync(resolved) };
      } catch (error) {
        throw new ConfigError(`${where}: ${(error as Error).message}`);
      }
    }
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string' || text.trim().length < 4) throw new ConfigError(`${where}: value must be a string of at least 4 characters (shorter values would match everywhere)`);
    return { label, type: canaryType, category: CATEGORY_OF[canaryType], value: text.trim() };
  });
}
