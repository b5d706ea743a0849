// The suite's Java clients (test/fixtures/okhttp/, test/fixtures/jdk-httpclient/, with the classes
// they share in test/fixtures/java/): compiled with javac at test time into a temporary folder,
// no build tool, run with java.

import fs from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { tempDir } from '../helpers/lab.js';
import { missingCommand, runClient } from './differential.js';

/** Debian's OkHttp 3 (libokhttp-java) and the okio it needs. */
export const okhttpJars = ['/usr/share/java/okhttp.jar', '/usr/share/java/okio.jar'];

/** Why the JDK's clients cannot run here, or undefined. */
export const jdkMissing = missingCommand('javac', 'default-jdk-headless') ?? missingCommand('java', 'default-jdk-headless');

/** Why the OkHttp clients cannot run here, or undefined. */
export const okhttpMissing = jdkMissing ?? (okhttpJars.every((jar) => fs.existsSync(jar)) ? undefined : 'OkHttp is not installed (apt-get install libokhttp-java)');

/**
 * Runs a compiled JDK client (`mainClass` with `args`) to its end: direct, the suite's name for
 * `origin` is on this machine (a hosts file of its own in `work`, -Djdk.net.hosts.file); through a
 * proxy the client resolves nothing but the proxy's address.
 */
export async function runJava(work: string, classPath: string, origin: { hostname: string }, mainClass: string, args: readonly string[]): Promise<string> {
  const hosts = path.join(work, 'hosts');
  fs.writeFileSync(hosts, `127.0.0.1 ${origin.hostname}\n`);
  const run = await runClient('java', [`-Djdk.net.hosts.file=${hosts}`, '-cp', classPath, mainClass, ...args]);
  return `exit ${run.status}\n${run.text}`;
}

/** Compiles fixtures (paths under test/fixtures) against `jars`; returns the class path to run them with. */
export async function compileJava(t: Test, fixtures: readonly string[], jars: readonly string[] = []): Promise<string> {
  const classes = tempDir('conformance-java-');
  const sources = fixtures.map((file) => path.join(import.meta.dirname, '..', 'fixtures', file));
  const compiled = await runClient('javac', ['-nowarn', ...(jars.length > 0 ? ['-cp', jars.join(':')] : []), '-d', classes, ...sources]);
  t.equal(compiled.status, 0, `javac: ${compiled.text}`);
  return [classes, ...jars].join(':');
}
