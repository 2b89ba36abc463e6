import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from './ports.js';
import { type ChildExit, stopChild } from './process.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');
/**
 * Under vitest every answer of the service is checked against its route's declared schema (docs/api.md#openapi);
 * benchmarks, which start it through these helpers too, measure it as it runs in production.
 */
export const CHECK_RESPONSES = process.env.VITEST ? '1' : '0';

/** Builds dist/ once per test run when it is missing (npm test builds it before vitest). */
export function ensureBuilt(): void {
  if (existsSync(CLI)) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');
}

export interface ServiceOptions {
  /** Folder of SLO files (default: a copy of slo-definitions/). */
  definitions?: string;
  /** Extra SLOGUARD_* variables. */
  env?: Record<string, string>;
  /** Reuse a database file (restart tests). */
  databasePath?: string;
  /** The `sloguard` executable to run (default: this checkout's dist/ under this node). */
  command?: string;
  /**
   * What a start waits for: `evaluated` (default), ready after this process's first evaluation; `ready`,
   * `/readyz` 200, which may stand on the statuses the last run stored (docs/operations.md#start-up).
   */
  until?: StartedWhen;
}

export type StartedWhen = 'ready' | 'evaluated';

/** A real `sloguard serve` process on a free port, with its own temp database. */
export class SloguardProcess {
  private child: ChildProcess | undefined;
  readonly logs: string[] = [];
  url = '';
  port = 0;

  private constructor(
    readonly databasePath: string,
    readonly definitions: string,
    private readonly env: Record<string, string>,
    private readonly dir: ReturnType<typeof tempDir>,
    private readonly command: string[],
  ) {}

  static async start(options: ServiceOptions = {}): Promise<SloguardProcess> {
    ensureBuilt();
    const dir = tempDir('sloguard-svc-');
    const definitions = options.definitions ?? join(dir.path, 'slo-definitions');
    if (!options.definitions) cpSync(join(ROOT, 'slo-definitions'), definitions, { recursive: true });
    const service = new SloguardProcess(
      options.databasePath ?? join(dir.path, 'sloguard.db'),
      definitions,
      options.env ?? {},
      dir,
      options.command ? [options.command] : [process.execPath, CLI],
    );
    await service.restart(options.until);
    return service;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts (again) on a new free port with the same database. */
  async restart(until: StartedWhen = 'evaluated'): Promise<void> {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const [executable, ...args] = this.command;
    const child = spawn(executable!, [...args, 'serve'], {
      cwd: this.dir.path,
      env: {
        PATH: process.env.PATH,
        SLOGUARD_PORT: String(this.port),
        SLOGUARD_DATABASE: this.databasePath,
        SLOGUARD_DEFINITIONS: this.definitions,
        SLOGUARD_EVALUATION_INTERVAL: '1s',
        SLOGUARD_LOG_LEVEL: 'warn',
        SLOGUARD_CHECK_RESPONSES: CHECK_RESPONSES,
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (chunk) => this.logs.push(String(chunk)));
    child.stderr?.on('data', (chunk) => this.logs.push(String(chunk)));
    await waitFor(
      `sloguard on ${this.url} (log: ${this.logs.join('').slice(-500)})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${this.logs.join('')}`);
        const readyz = await fetch(`${this.url}/readyz`);
        const body = (await readyz.json()) as { statuses?: string };
        return readyz.ok && (until === 'ready' || body.statuses === 'evaluated');
      },
      { timeoutMs: 20_000 },
    );
  }

  /** Stops the process: SIGTERM (graceful) by default, SIGKILL for crash tests; says how it ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ChildExit | undefined> {
    return this.child ? await stopChild(this.child, signal) : undefined;
  }

  async cleanup(): Promise<void> {
    await this.stop('SIGKILL');
    this.dir.cleanup();
  }

  async json<T = unknown>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${path}`, init);
    return { status: response.status, body: (await response.json()) as T };
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the CLI to its end (killed after `timeoutMs`, which the caller's assertions then see as code null). */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 15_000): Promise<CliRun> {
  ensureBuilt();
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, SLOGUARD_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    }),
  );
}
