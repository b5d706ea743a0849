// flows.har's head for a run folder, read from run.json: the same facts a capture gives at its stop
// (the tool's version, the run's first start, the last session's options), so a HAR built later —
// by recover or by `phonehome har` — has the head the stop would have written.

import { toolVersion } from '../util/install-paths.js';
import type { HarLogFacts } from './har-builder.js';
import type { RunRecord } from './run-record.js';

export function harFactsOf(record: RunRecord | undefined): HarLogFacts {
  return {
    version: record?.tool.version ?? toolVersion,
    startedAt: record?.sessions[0]?.startedAt ?? new Date(0).toISOString(),
    insecureUpstream: record?.insecureUpstream ?? false,
    options: record?.sessions.at(-1)?.options ?? {},
  };
}
