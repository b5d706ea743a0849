// The import graph of src/ (issue #23): which folder may lean on which. Checked by
// test/unit/import-graph.test.ts; by hand: npx depcruise src --config .dependency-cruiser.cjs
// Type-only imports count for the folder rules (a type pulled from proxy/ still ties sinks/ to
// the engine), not for the runtime cycle rule; type-level cycles have a rule of their own.

/** A rule forbidding every import from one folder of src/ into another. */
function forbid(name, from, to, comment) {
  return { name, comment, severity: 'error', from: { path: `^src/${from}/` }, to: { path: `^src/${to}/` } };
}

module.exports = {
  forbidden: [
    {
      name: 'no-runtime-cycle',
      comment: 'modules that load each other (import type aside): the order they initialise in decides what works',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-cycle',
      comment: 'any cycle, type-only imports included: a type shared both ways wants a file of its own',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    forbid('report-not-app', 'report', 'app', 'the report reads a run folder through run/, never the capture application'),
    forbid('fleet-not-app', 'fleet', 'app', 'fleet workers and the collector use enrich/ and run/, never the capture application'),
    forbid('sinks-not-proxy', 'sinks', 'proxy', 'sinks see flows and findings (model/), never the proxy engine'),
    forbid('app-not-bench', 'app', 'bench', 'the product never depends on its benchmark'),
    forbid('run-not-cli', 'run', 'cli', 'the run folder is a library for the commands, not the other way round'),
    {
      ...forbid('run-not-report', 'run', 'report', 'the report reads run/, run/ does not draw the report'),
      // decrypt adds flows to a finished run and redraws its report.html when it had one.
      from: { path: '^src/run/', pathNot: '^src/run/decrypt-later[.]ts$' },
    },
    forbid('run-not-fleet', 'run', 'fleet', 'the fleet collector reads run/, run/ knows no fleet'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|dist-bench)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
