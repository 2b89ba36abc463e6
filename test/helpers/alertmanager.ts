import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { requireBinary } from './nginx.js';
import { exitedError, freePort, onFreePorts } from './ports.js';
import { stopChild } from './process.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

export const ALERTMANAGER_BINARY = '/usr/bin/prometheus-alertmanager';

/** Whether the real Alertmanager can run here (CI installs `prometheus-alertmanager` and must not skip). */
export const hasAlertmanager = () => requireBinary(ALERTMANAGER_BINARY, 'prometheus-alertmanager');

export interface AlertmanagerOptions {
  /** Where its one webhook receiver posts. */
  webhookUrl: string;
  groupBy: string[];
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
}

/** A real Alertmanager (Debian package) on 127.0.0.1, clustering off, one webhook receiver. */
export class AlertmanagerServer {
  readonly logs: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: ReturnType<typeof tempDir>,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static start(options: AlertmanagerOptions): Promise<AlertmanagerServer> {
    return onFreePorts(() => AlertmanagerServer.startOnce(options));
  }

  private static async startOnce(options: AlertmanagerOptions): Promise<AlertmanagerServer> {
    const dir = tempDir('sloguard-alertmanager-');
    const port = await freePort();
    const config = dir.file(
      'alertmanager.yml',
      `route:
  receiver: capture
  group_by: [${options.groupBy.map((label) => JSON.stringify(label)).join(', ')}]
  group_wait: ${options.groupWait ?? '1s'}
  group_interval: ${options.groupInterval ?? '1s'}
  repeat_interval: ${options.repeatInterval ?? '1h'}
receivers:
  - name: capture
    webhook_configs:
      - url: ${JSON.stringify(options.webhookUrl)}
        send_resolved: true
`,
    );
    const child = spawn(
      ALERTMANAGER_BINARY,
      [
        `--config.file=${config}`,
        `--storage.path=${join(dir.path, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // An empty address turns clustering (gossip on 9094) off.
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new AlertmanagerServer(child, dir, port);
    child.stdout?.on('data', (chunk) => server.logs.push(String(chunk)));
    child.stderr?.on('data', (chunk) => server.logs.push(String(chunk)));
    // It listens before it loads anything and exits when the port is taken.
    const started = await waitFor(`alertmanager on ${server.url}`, async () => {
      if (child.exitCode !== null) return 'exited';
      return (await fetch(`${server.url}/-/ready`)).ok && 'ready';
    });
    if (started === 'exited') {
      dir.cleanup();
      throw exitedError('alertmanager', child.exitCode, server.logs.join(''));
    }
    return server;
  }

  /** The alerts Alertmanager holds now (`GET /api/v2/alerts`). */
  async alerts(): Promise<Array<{ labels: Record<string, string>; status: { state: string } }>> {
    return (await (await fetch(`${this.url}/api/v2/alerts`)).json()) as Array<{
      labels: Record<string, string>;
      status: { state: string };
    }>;
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    this.dir.cleanup();
  }
}
