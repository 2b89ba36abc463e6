import { cpSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { type Config, loadConfig } from '../../src/config/config.js';
import type { AppOptions } from '../../src/http/app.js';
import { createLogger } from '../../src/ingestCore.js';
import { createApp, createSloguard, type Sloguard } from '../../src/service.js';
import { CHECK_RESPONSES, ROOT } from './service.js';
import { tempDir } from './tmp.js';

/**
 * A temp copy of the example SLOs, with the demo's play-store SLOs and Browse composite when asked, and `files`
 * (name: YAML) beside them; `cleanup` removes it.
 */
export function exampleDefinitions(
  prefix: string,
  options: { playStore?: boolean; files?: Record<string, string> } = {},
) {
  const definitions = tempDir(prefix);
  cpSync(join(ROOT, 'slo-definitions'), definitions.path, { recursive: true });
  if (options.playStore)
    cpSync(join(ROOT, 'src/demo/play-store.yaml'), join(definitions.path, 'play-store.yaml'));
  for (const [name, text] of Object.entries(options.files ?? {})) definitions.file(name, text);
  return definitions;
}

/** An in-process app on a temp database and a copy of the example SLOs, for `app.inject()` tests. */
export async function testApp(
  overrides: Partial<Config> = {},
  env: NodeJS.ProcessEnv = {},
  appOptions: AppOptions & {
    logLevel?: string;
    logStream?: { write(line: string): void };
    /** false: leave the statuses the last run stored, as a service does until its first evaluation ends. */
    evaluate?: boolean;
  } = {},
) {
  const dir = tempDir('sloguard-app-');
  const definitionsPath = join(dir.path, 'slo-definitions');
  cpSync(join(ROOT, 'slo-definitions'), definitionsPath, { recursive: true });
  const config: Config = {
    ...loadConfig({ SLOGUARD_LOG_LEVEL: 'silent', SLOGUARD_CHECK_RESPONSES: CHECK_RESPONSES, ...env }),
    databasePath: join(dir.path, 'sloguard.db'),
    definitionsPath,
    ...overrides,
  };
  const { logLevel, logStream, evaluate = true, ...options } = appOptions;
  const sloguard: Sloguard = createSloguard(config, createLogger(logLevel ?? config.logLevel, logStream));
  const { app }: { app: FastifyInstance } = await createApp(sloguard, options);
  if (evaluate) sloguard.evaluator.evaluateAll();
  return {
    app,
    sloguard,
    dir,
    async close() {
      await app.close();
      sloguard.close();
      dir.cleanup();
    },
  };
}

/** Ingests nginx lines per service through the ingest route (each answered 202), then commits and evaluates. */
export async function ingestAndEvaluate(
  ctx: Awaited<ReturnType<typeof testApp>>,
  linesByService: Record<string, readonly string[]>,
): Promise<void> {
  for (const [service, lines] of Object.entries(linesByService)) {
    const response = await ctx.app.inject({
      method: 'POST',
      url: `/api/v1/ingest/lb?format=nginx&service=${service}`,
      payload: lines.join('\n'),
    });
    expect(response.statusCode).toBe(202);
  }
  ctx.sloguard.pipeline.flush();
  ctx.sloguard.evaluator.evaluateAll();
}

/** nginx lines in the documented format, stamped `timeMs`. */
export function nginxLine(
  timeMs: number,
  method: string,
  path: string,
  status: number,
  seconds: number,
): string {
  const date = new Date(timeMs);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
  return `10.0.0.1 - - [${stamp}] "${method} ${path} HTTP/1.1" ${status} 10 "-" "test" ${seconds.toFixed(3)}`;
}
