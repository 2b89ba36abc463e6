import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './ports.js';
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
}

/** Instant-query answer of the HTTP API. */
export interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * A real Prometheus (Debian package) on 127.0.0.1 with its TSDB in a temp folder, scraping and evaluating
 * rules every second so tests need only a few seconds of data.
 */
export class PrometheusServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: ReturnType<typeof tempDir>,
    readonly port: number,
    readonly logs: string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(options: PrometheusOptions): Promise<PrometheusServer> {
    const dir = tempDir('sloguard-prometheus-');
    const port = options.port ?? (await freePort());
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
      ...(options.ruleFiles && { rule_files: options.ruleFiles }),
      scrape_configs: options.targets.map((t) => ({
        job_name: t.job,
        metrics_path: t.path ?? '/metrics',
        static_configs: [{ targets: [t.target] }],
      })),
    };
    const configPath = dir.file('prometheus.yml', stringify(config));
    const child = spawn(
      PROMETHEUS_BINARY,
      [
        `--config.file=${configPath}`,
        `--storage.tsdb.path=${join(dir.path, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const logs: string[] = [];
    child.stdout?.on('data', (chunk) => logs.push(String(chunk)));
    child.stderr?.on('data', (chunk) => logs.push(String(chunk)));
    const server = new PrometheusServer(child, dir, port, logs);
    await waitFor(`prometheus on ${server.url} (${logs.join('').slice(-400)})`, async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${logs.join('')}`);
      return (await fetch(`${server.url}/-/ready`)).ok;
    });
    return server;
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

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    this.dir.cleanup();
  }
}
