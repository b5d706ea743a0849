// Module hooks for test/helpers/typescript.mjs.
// - .ts and .mts files (ES modules in this package) are transpiled by esbuild: types removed, code
//   printed as statements on their own lines (not minified, as tsx does) with an inline source map,
//   so stack traces and tap's line coverage point at the TypeScript lines.
// - What esbuild printed is kept on disk, keyed by the file's path and text, esbuild's version and
//   the options, so the next test process reads it instead of starting esbuild again. Some 200 test
//   files and their worker threads load the same modules: with the cache, test/unit/inspect's 32
//   files took 61-63 s instead of 82-91 s (no coverage, two at a time, 2 cores). npm ci starts it
//   empty; nothing is ever stale, since any change of the file or of the options is another key.
// - An import of `./x.js` that does not exist finds `./x.ts`, as tsc's NodeNext resolution does.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// What tsconfig.json sets that changes emitted code: imports kept as written (type-only ones are
// marked `import type`, which tsc enforces), and class fields defined as ES2022 defines them.
const tsconfigRaw = { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } };
const options = { loader: 'ts', format: 'esm', target: 'node20', sourcemap: 'inline', tsconfigRaw };

const cacheFolder = fileURLToPath(new URL('../../node_modules/.cache/phonehome-test-typescript/', import.meta.url));
const esbuildVersion = createRequire(import.meta.url)('esbuild/package.json').version;
const optionsKey = JSON.stringify({ esbuildVersion, options });
/** esbuild, loaded on the first file not in the cache (it starts a process of its own). */
let esbuild;

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const relative = specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:');
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !relative || !specifier.endsWith('.js')) throw error;
    return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !/\.m?ts$/.test(url)) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const text = await readFile(file, 'utf8');
  // The path is in the key because the source map names it.
  const cached = path.join(cacheFolder, `${createHash('sha256').update(optionsKey).update('\0').update(file).update('\0').update(text).digest('hex')}.js`);
  const source = (await readFile(cached, 'utf8').catch(() => undefined)) ?? (await transpile(file, text, cached));
  return { format: 'module', source, shortCircuit: true };
}

async function transpile(file, text, cached) {
  esbuild ??= await import('esbuild');
  const { code } = await esbuild.transform(text, { ...options, sourcefile: file });
  // Written under a name of its own, then renamed: a test process running beside this one reads
  // either nothing or the whole file. A cache that cannot be written only costs time.
  const partial = `${cached}.${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await mkdir(cacheFolder, { recursive: true });
    await writeFile(partial, code);
    await rename(partial, cached);
  } catch {
    await unlink(partial).catch(() => undefined);
  }
  return code;
}
