// Module hooks for test/helpers/typescript.mjs.
// - .ts and .mts files (ES modules in this package) are transpiled by esbuild: types removed, code
//   printed as statements on their own lines (not minified, as tsx does) with an inline source map,
//   so stack traces and tap's line coverage point at the TypeScript lines.
// - An import of `./x.js` that does not exist finds `./x.ts`, as tsc's NodeNext resolution does.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

// What tsconfig.json sets that changes emitted code: imports kept as written (type-only ones are
// marked `import type`, which tsc enforces), and class fields defined as ES2022 defines them.
const tsconfigRaw = { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } };

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
  const { code } = await transform(await readFile(file, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: file,
    tsconfigRaw,
  });
  return { format: 'module', source: code, shortCircuit: true };
}
