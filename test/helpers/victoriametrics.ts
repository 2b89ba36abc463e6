import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

export const VICTORIA_METRICS_BINARY = '/usr/bin/victoria-metrics';

/**
 * A real single-node VictoriaMetrics (Debian package) on 127.0.0.1 with its storage in a temp folder. Data is
 * fed through its Prometheus text import API; the response cache is off and imported data is visible at once,
 * so a test reads back what it wrote.
 */
export class VictoriaMetricsServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: ReturnType<typeof tempDir>,
    readonly port: number,
    readonly logs: string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<VictoriaMetricsServer> {
    const dir = tempDir('sloguard-vm-');
    const port = await freePort();
    const child = spawn(
      VICTORIA_METRICS_BINARY,
      [
        `-storageDataPath=${join(dir.path, 'data')}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        '-retentionPeriod=1',
        '-search.disableCache',
        '-search.latencyOffset=0s',
        '-loggerLevel=ERROR',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const logs: string[] = [];
    child.stdout?.on('data', (chunk) => logs.push(String(chunk)));
    child.stderr?.on('data', (chunk) => logs.push(String(chunk)));
    const server = new VictoriaMetricsServer(child, dir, port, logs);
    await waitFor(`victoria-metrics on ${server.url} (${logs.join('').slice(-400)})`, async () => {
      if (child.exitCode !== null)
        throw new Error(`victoria-metrics exited ${child.exitCode}: ${logs.join('')}`);
      return (await fetch(`${server.url}/health`)).ok;
    });
    return server;
  }

  /** Imports Prometheus text-format samples (with millisecond timestamps) and makes them searchable. */
  async importPrometheus(lines: readonly string[]): Promise<void> {
    const response = await fetch(`${this.url}/api/v1/import/prometheus`, {
      method: 'POST',
      body: `${lines.join('\n')}\n`,
    });
    if (response.status !== 204) throw new Error(`import: HTTP ${response.status} ${await response.text()}`);
    const flush = await fetch(`${this.url}/internal/force_flush`);
    if (!flush.ok) throw new Error(`force_flush: HTTP ${flush.status}`);
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
