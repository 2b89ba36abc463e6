import { join } from 'node:path';
import { EngineProcess } from './prometheus.js';

export const VICTORIA_METRICS_BINARY = '/usr/bin/victoria-metrics';

/**
 * A real single-node VictoriaMetrics (Debian package) on 127.0.0.1 with its storage in a temp folder. Data is
 * fed through its Prometheus text import API; the response cache is off and imported data is visible at once,
 * so a test reads back what it wrote.
 */
export class VictoriaMetricsServer extends EngineProcess {
  static async start(): Promise<VictoriaMetricsServer> {
    const started = await EngineProcess.launch(
      VICTORIA_METRICS_BINARY,
      (dir, port) => [
        `-storageDataPath=${join(dir.path, 'data')}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        '-retentionPeriod=1',
        '-search.disableCache',
        '-search.latencyOffset=0s',
        '-loggerLevel=ERROR',
      ],
      '/health',
    );
    return new VictoriaMetricsServer(started.child, started.dir, started.port, started.logs);
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
}
