// The finding format (version 1): one line of findings.jsonl, the report's and the fleet's input;
// readers rely on its fields, so a change to them is a new version.

import type { AppAttribution, CaptureMode } from './flow.js';

export const categories = [
  'photo', 'sms', 'mail', 'contact', 'call-log', 'identifier', 'location',
  'credential', 'browsing', 'app-list', 'tls-pinned', 'opaque',
] as const;
export type Category = (typeof categories)[number];

export const severities = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof severities)[number];

export function severityRank(severity: Severity): number {
  return severities.indexOf(severity);
}

export function parseSeverity(text: string): Severity | undefined {
  return (severities as readonly string[]).includes(text) ? (text as Severity) : undefined;
}

export interface Evidence {
  /** The decode chain from the raw message to the thing found. */
  readonly path: readonly string[];
  readonly bytes: number;
  readonly sha256?: string;
  readonly excerpt?: string;
}

export interface Destination {
  readonly ip?: string;
  readonly port?: number;
  readonly country?: string | null;
  readonly asn?: number | null;
  readonly org?: string | null;
  /** The company behind the host (`Umeng (Alibaba)`, `Xiaomi`), from the tracker and company databases. */
  readonly entity?: string | null;
  /** What that company's service does here: `analytics`, `advertising`, `crash reporting`, `push`, `vendor cloud`… */
  readonly purpose?: string | null;
  /** The app's own vendor: the app's package and the entity belong to the same company. */
  readonly firstParty?: boolean;
}

export interface Finding {
  readonly v: 1;
  readonly id: string;
  readonly time: string;
  readonly flowId: string;
  readonly category: Category;
  readonly severity: Severity;
  readonly direction: 'request' | 'response' | 'both' | 'none';
  readonly detector: string;
  readonly summary: string;
  readonly method?: string;
  readonly url?: string;
  readonly host: string;
  /** The device: its address, and its name where it has one (the WireGuard peer). */
  readonly client: { readonly ip: string; readonly name?: string };
  /** How the device's connection reached phonehome (`http`, `socks5`, `transparent`, `wireguard`), when known. */
  readonly mode?: CaptureMode;
  /** The app that sent the flow, with confidence and evidence, when it could be told. */
  readonly app?: AppAttribution;
  readonly destination: Destination;
  readonly evidence: Evidence;
  readonly details: Readonly<Record<string, unknown>>;
  readonly canary: string | null;
  /** Names of the rules that changed this finding (absent when none did). */
  readonly rules?: readonly string[];
  /** The capture node that saw the flow, in a fleet (--publish); absent otherwise. */
  readonly node?: string;
  /** Made by `phonehome decrypt` from ciphertext recorded during the run and keys brought afterwards. */
  readonly decryptedLater?: boolean;
}

/** What a detector reports; the pipeline adds the id, time and the flow's context. */
export type FindingDraft = Pick<Finding, 'category' | 'severity' | 'direction' | 'detector' | 'summary' | 'evidence' | 'details'> & {
  readonly canary?: string | null;
};
