import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { exitedError, freePort, onFreePorts } from './ports.js';
import { stopChild } from './process.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';
export const PROMTOOL_BINARY = '/usr/bin/promtool';

export interface ScrapeTarget {
  job: string;
  target: string;
  path?: string;
}

export interface PrometheusOptions {
  targets: ScrapeTarget[];
  /** Rule files to load (`rule_files:`). */
  ruleFiles?: string[];
  /** Listen here (pick it with freePort() when others must know the URL before the start). */
  port?: number;
  /** Accept remote writes on /api/v1/write (`--web.enable-remote-write-receiver`). */
  remoteWriteReceiver?: boolean;
  /** Require HTTP basic auth (Prometheus's web config takes a bcrypt hash of the password). */
  basicAuth?: { username: string; password: string; bcryptHash: string };
}

/** A bcrypt hash (cost 4, so checks stay fast) of TEST_PASSWORD, for an engine that asks for basic auth. */
export const TEST_PASSWORD = 'sloguard-test-password';
export const TEST_PASSWORD_BCRYPT = '$2b$04$vUgfeeOUU4GWYqUIGF90/eFzLauTosQVt5CFw6axVTzerLsl/OkQa';

/** Instant-query answer of the HTTP API. */
export interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * A Prometheus-compatible engine run from its Debian binary on 127.0.0.1 with its storage in a temp folder;
 * started once its readiness URL answers, stopped with SIGTERM and its folder removed.
 */
export class EngineProcess {
  protected constructor(
    private readonly child: ChildProcess,
    private readonly dir: ReturnType<typeof tempDir>,
    readonly port: number,
    readonly logs: string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected static async launch(
    binary: string,
    args: (dir: ReturnType<typeof tempDir>, port: number) => string[],
    readyPath: string,
    port?: number,
    headers: Record<string, string> = {},
  ): Promise<{ child: ChildProcess; dir: ReturnType<typeof tempDir>; port: number; logs: string[] }> {
    // A port the caller chose stays as given; one chosen here is chosen again if another process took it.
    const once = async () => {
      const dir = tempDir('sloguard-engine-');
      const listen = port ?? (await freePort());
      const child = spawn(binary, args(dir, listen), { stdio: ['ignore', 'pipe', 'pipe'] });
      const logs: string[] = [];
      child.stdout?.on('data', (chunk) => logs.push(String(chunk)));
      child.stderr?.on('data', (chunk) => logs.push(String(chunk)));
      const started = await waitFor(`${binary} on port ${listen}`, async () => {
        if (child.exitCode !== null) return 'exited';
        return (await fetch(`http://127.0.0.1:${listen}${readyPath}`, { headers })).ok && 'ready';
      });
      if (started === 'exited') {
        dir.cleanup();
        const error = exitedError(binary, child.exitCode, logs.join(''));
        throw port === undefined ? error : new Error(error.message);
      }
      return { child, dir, port: listen, logs };
    };
    return onFreePorts(once);
  }

  /** Stops the engine's process (SIGSTOP): the kernel still takes connections, nothing answers, as a hung engine. */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.child;
    // A paused engine would not act on SIGTERM.
    this.resume();
    await stopChild(child);
    this.dir.cleanup();
  }
}

/**
 * A real Prometheus (Debian package) with its TSDB in a temp folder, scraping and evaluating rules every second
 * so tests need only a few seconds of data.
 */
export class PrometheusServer extends EngineProcess {
  static async start(options: PrometheusOptions): Promise<PrometheusServer> {
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
      ...(options.ruleFiles && { rule_files: options.ruleFiles }),
      scrape_configs: options.targets.map((t) => ({
        job_name: t.job,
        metrics_path: t.path ?? '/metrics',
        static_configs: [{ targets: [t.target] }],
      })),
    };
    const auth = options.basicAuth;
    const started = await EngineProcess.launch(
      PROMETHEUS_BINARY,
      (dir, port) => [
        `--config.file=${dir.file('prometheus.yml', stringify(config))}`,
        `--storage.tsdb.path=${join(dir.path, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
        ...(options.remoteWriteReceiver ? ['--web.enable-remote-write-receiver'] : []),
        ...(auth
          ? [
              `--web.config.file=${dir.file('web.yml', stringify({ basic_auth_users: { [auth.username]: auth.bcryptHash } }))}`,
            ]
          : []),
      ],
      '/-/ready',
      options.port,
      auth
        ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }
        : {},
    );
    return new PrometheusServer(started.child, started.dir, started.port, started.logs);
  }

  async query(expr: string): Promise<Vector[]> {
    const response = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await response.json()) as { status: string; error?: string; data: { result: Vector[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  }

  async targets(): Promise<Array<{ labels: Record<string, string>; health: string; lastError: string }>> {
    const response = await fetch(`${this.url}/api/v1/targets`);
    return ((await response.json()) as { data: { activeTargets: [] } }).data.activeTargets;
  }
}
