// The run folder (--out) file by file: every name a writer, a reader or recover uses is spelled here
// once, so a file cannot be written under one name and looked for under another.

/** What the folder holds and whether the run finished (src/run/run-folder.ts). */
export const RUN_FILE = 'run.json';
/** The write-ahead log of flows: one HAR entry per line, durable as each flow ends. */
export const FLOW_LOG = 'flows.jsonl';
/** One finding per line, durable as each is made. */
export const FINDINGS_FILE = 'findings.jsonl';
/** The HAR built from the flow log on stop (or by recover). */
export const HAR_FILE = 'flows.har';
/** A HAR being written; older versions wrote it during the run, so a crash left it behind. */
export const HAR_PARTIAL_FILE = `${HAR_FILE}.partial`;
/** Counters and tables of the run, written on stop (or by recover). */
export const SUMMARY_FILE = 'summary.json';
/** The ciphertext of passthrough tunnels, for `decrypt` (pcapng, one section per session). */
export const OPAQUE_FILE = 'opaque.pcapng';
