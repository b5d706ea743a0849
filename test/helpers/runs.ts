// Fixture factory for run folders (findings.jsonl, summary.json, flows.jsonl), as a capture
// writes them, for the commands that read runs: compare, report.

import fs from 'node:fs';
import path from 'node:path';
import type { Finding } from '../../src/model/finding.js';
import type { Flow } from '../../src/model/flow.js';
import { flowToHarEntry } from '../../src/flow/har.js';

export function makeFinding(id: number, overrides: Partial<Finding> = {}): Finding {
  return {
    v: 1, id: `f-${String(id).padStart(6, '0')}`, time: '2026-11-27T18:30:11.000Z', flowId: `fl-${String(id).padStart(6, '0')}`, category: 'photo', severity: 'high', direction: 'request',
    detector: 'photo/jpeg', summary: 'JPEG photo', host: 'gallery.example.cn', client: { ip: '192.168.1.23' }, destination: { ip: '42.62.48.10', port: 443, country: 'CN', asn: 23724, org: 'x' },
    evidence: { path: ['body'], bytes: 10, sha256: 'a'.repeat(64) }, details: {}, canary: null, ...overrides,
  };
}

export interface RunFolder {
  readonly findings: readonly Finding[];
  /** summary.json as written (defaults: destinations from `hosts`). */
  readonly summary?: Record<string, unknown>;
  readonly hosts?: readonly string[];
  readonly flows?: readonly Flow[];
}

export function writeRunFolder(dir: string, run: RunFolder): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'findings.jsonl'), run.findings.map((f) => `${JSON.stringify(f)}\n`).join(''));
  const summary = run.summary ?? { v: 1, destinations: (run.hosts ?? []).map((host) => ({ host, country: host.endsWith('.cn') ? 'CN' : 'US', bytesUp: 100 })) };
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary));
  if (run.flows) fs.writeFileSync(path.join(dir, 'flows.jsonl'), run.flows.map((f) => `${JSON.stringify(flowToHarEntry(f, { omitBodies: false }))}\n`).join(''));
  return dir;
}
