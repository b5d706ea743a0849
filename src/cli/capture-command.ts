// `phonehome capture` (and `phonehome` when stdout is not a terminal): run the proxy until a
// signal or --duration, with the console as its front end, then write the files and exit 0, or 3
// with --fail-on.

import { CaptureSession } from '../app/capture-session.js';
import { resolveCaptureOptions } from '../app/options.js';
import { bannerLines, ConsoleSink } from '../sinks/console-sink.js';
import { wireguardBanner } from '../sinks/wireguard-banner.js';
import { onBlack, terminalQr } from '../util/wireguard-qr.js';
import type { RawOptions } from '../app/options.js';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export async function runCapture(raw: RawOptions, io: Output): Promise<number> {
  const options = resolveCaptureOptions(raw, 'capture');
  const session = await CaptureSession.start(options);
  for (const line of bannerLines(options.listenHost, session.port, options.outDir, session.ca.info().sha256Fingerprint)) io.out(line);
  if (options.transparent) io.out(`  transparent (redirected) connections on ${options.transparent.host}:${session.transparentPort}; phonehome transparent-rules prints the iptables commands`);
  if (session.wireguard) {
    const wg = session.wireguard;
    io.out(`  WireGuard endpoint ${wg.endpoint} listening (UDP, interface ${wg.interfaceName}); the tunnel's TCP goes through phonehome, DNS is answered on ${wg.gateway}, QUIC is dropped`);
    // Painted white on black only on a terminal: a pipe or a log file gets the plain half blocks.
    const paint = process.stdout.isTTY && !process.env['NO_COLOR'] ? onBlack : (qr: string) => qr;
    for (const line of wireguardBanner(wg, (text) => paint(terminalQr(text)), raw['ca-dir'] === undefined ? undefined : options.caDir)) io.out(line);
  }
  if (options.dns) io.out(`  DNS answered and recorded on ${options.dns.host}:${options.dns.port} (forwarded to ${options.dnsUpstream ? options.dnsUpstream.ip : 'the system resolver'})`);
  for (const warning of session.startupWarnings) io.err(`phonehome: warn: ${warning}`);
  session.sinks.add(new ConsoleSink(io, { redact: options.redact, messages: true }));

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      io.err(`phonehome: ${signal}: stopping, writing files…`);
      void session.stop();
    } else {
      // A second signal: the user insists. findings.jsonl is already on disk line by line.
      io.err(`phonehome: ${signal} again: exiting now; findings.jsonl and flows.jsonl hold everything so far (phonehome recover ${options.outDir ?? 'DIR'} builds flows.har and summary.json)`);
      process.exit(2);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const result = await session.stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (result.failure) io.err(`phonehome: ${result.failure}`);
  io.err(`phonehome: stopped; ${result.findings} finding(s)${result.outDir ? `, files in ${result.outDir}` : ''}${result.exitCode === 3 ? `; findings at or above --fail-on ${options.failOn}: exit 3` : ''}${result.exitCode === 2 ? '; exit 2' : ''}`);
  return result.exitCode;
}
