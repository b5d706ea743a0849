// The test runner's TypeScript loader. package.json's tap config passes this file to every test
// process with --import; Node hands that flag on to worker threads too (the inspection worker,
// the proxy loops), and it registers the hooks on whatever thread runs it.
//
// Why our own and not tap's ts-node or tsx: ts-node took 1.4-1.8 s to load a test's imports (this
// takes about a second less), in each of some 200 test files; tsx is as fast as this, but on Node 20
// registers on the main thread only (a worker's .ts fails) and writes each module on one line, which
// left tap's line coverage of a half-covered file at 100 %.
// Type-checking is not done here: `npm test` runs `tsc --noEmit` first.
import { register } from 'node:module';

register('./typescript-hooks.mjs', import.meta.url);
