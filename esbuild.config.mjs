/**
 * Bundles the CLI into dist/cli/main.js (the bin) after tsc has built dist/: its ~900 modules (TypeBox alone
 * ~700) cost `sloguard import` 500-800 ms of start-up in module resolution and compilation; bundled it starts
 * in under 200 ms (issue #23). The lazily imported commands become chunks beside it.
 *
 * `serve` stays unbundled (dist/cli/serve.js, from tsc): OpenTelemetry instruments modules as Node loads them,
 * and the service reads files beside its build (dashboards, worker entries). better-sqlite3 is native.
 * Worker entries the bundled commands start by `new URL('./x.js', import.meta.url)` are bundled beside the
 * chunks, where that URL points from them.
 */
import { readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunks are named by their content's hash: those of an earlier build would pile up.
for (const name of readdirSync('dist/cli')) if (name.startsWith('main-')) rmSync(`dist/cli/${name}`);

await build({
  entryPoints: {
    main: 'src/cli/main.ts',
    importWorker: 'src/ingest/loadbalancer/importWorker.ts',
  },
  outdir: 'dist/cli',
  chunkNames: 'main-[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Less source for V8 to scan and pre-parse at start-up; names are kept, so stack traces and profiles read.
  minifyWhitespace: true,
  minifySyntax: true,
  external: ['better-sqlite3', './serve.js'],
  // CommonJS dependencies call require(); ESM output has none of its own.
  banner: {
    js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
