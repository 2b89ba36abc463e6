import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { timeProcess } from '../../bench/method.js';
import { writeNginxLog } from '../../bench/nginxLog.js';
import { CLI, ensureBuilt, ROOT, runCli } from '../helpers/service.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `sloguard import` builds only what writing observations needs (issue #23): no HTTP server, scheduler or
 * OpenTelemetry SDK is loaded, and its memory stays bounded whatever the file's size.
 */
const dir = tempDir('sloguard-import-lean-');
const definitions = join(ROOT, 'slo-definitions');
afterAll(() => dir.cleanup());

/** A module-resolve hook (module.register, on the loader's thread) that writes every module resolved to a file. */
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.MODULE_TRACE, resolved.url + '\\n');
  return resolved;
}`;

describe('sloguard import loads and holds only what it uses', () => {
  it('loads no fastify, OpenTelemetry SDK, scheduler, HTTP server or telemetry', async () => {
    const hooks = dir.file('hooks.mjs', HOOKS);
    const register = dir.file(
      'register.mjs',
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    const trace = join(dir.path, 'modules.txt');
    const log = dir.file('access.log', '');
    const run = await runCli(['import', '--format', 'nginx', '--service', 'shop', log], {
      NODE_OPTIONS: `--import=${pathToFileURL(register).href}`,
      MODULE_TRACE: trace,
      SLOGUARD_DATABASE: join(dir.path, 'graph.db'),
      SLOGUARD_DEFINITIONS: definitions,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const modules = [...new Set(readFileSync(trace, 'utf8').trim().split('\n'))];
    const dist = pathToFileURL(join(ROOT, 'dist')).href;
    // The CLI is bundled (esbuild.config.mjs): what each file of the build was made of is in its source map.
    const built = modules.filter((url) => url.startsWith(`${dist}/`));
    const sources = built.flatMap(
      (url) =>
        (JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')) as { sources: string[] }).sources,
    );
    // The trace saw the command's own code, so an absent module is absent, not unseen.
    expect(sources.some((source) => source.endsWith('src/cli/import.ts'))).toBe(true);
    expect(modules.some((url) => url.includes('/node_modules/better-sqlite3/'))).toBe(true);
    const unwanted = [...modules, ...sources].filter(
      (path) =>
        /\/node_modules\/(?:fastify|@fastify\/[^/]+|@opentelemetry\/sdk-node)\//.test(path) ||
        /\/(?:dist|src)\/(?:http|telemetry|schedule)\//.test(path) ||
        /\/(?:dist\/service\.js|src\/service\.ts)$/.test(path),
    );
    expect(unwanted).toEqual([]);
    // Start-up (#23): resolving and compiling the ~900 modules of the unbundled build took 500-800 ms.
    const files = modules.filter((url) => !url.startsWith('node:'));
    expect(files.length, files.join('\n')).toBeLessThan(30);
  });

  it('imports a 300,000-line file within 200 MB of peak RSS, every line counted', async () => {
    ensureBuilt();
    const file = join(dir.path, 'big.log');
    const truth = await writeNginxLog(file, 300_000, 2);
    const run = timeProcess(
      process.execPath,
      [CLI, 'import', '--format', 'nginx', '--service', 'shop', file],
      {
        PATH: process.env.PATH,
        SLOGUARD_LOG_LEVEL: 'warn',
        SLOGUARD_DATABASE: join(dir.path, 'big.db'),
        SLOGUARD_DEFINITIONS: definitions,
      },
    );
    console.log(
      `sloguard import of ${truth.lines} lines: peak RSS ${run.peakRssMb.toFixed(0)} MB in ${(run.ms / 1000).toFixed(1)} s`,
    );
    expect(run.stdout).toContain(`imported ${truth.lines} lines (0 rejected, 0 skipped)`);
    // Target 150 MB (#23); 200 leaves room for a loaded machine's slower garbage collection.
    expect(run.peakRssMb).toBeLessThan(200);
  }, 120_000);
});
