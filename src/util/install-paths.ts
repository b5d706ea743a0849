// Where the installation lives (the folder with package.json), from src/util or dist/util alike.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const installRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const toolVersion: string = (() => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(installRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export function defaultCaDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['PHONEHOME_CA_DIR'] || path.join(installRoot, 'certs');
}
