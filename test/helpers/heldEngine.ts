import { createServer, type ServerResponse } from 'node:http';

/**
 * A Prometheus-compatible query endpoint (`POST /api/v1/query`) that answers 0 to every query, and can hold
 * its answers until released: a slow engine that keeps an evaluation tick waiting, for start-up tests.
 */
export class HeldEngine {
  private held: ServerResponse[] = [];
  private holding = false;
  /** Queries asked while holding. */
  heldQueries = 0;

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly url: string,
  ) {}

  static async start(): Promise<HeldEngine> {
    let engine: HeldEngine | undefined;
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => engine!.answer(response));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    engine = new HeldEngine(server, `http://127.0.0.1:${port}`);
    return engine;
  }

  private answer(response: ServerResponse): void {
    if (this.holding) {
      this.heldQueries += 1;
      this.held.push(response);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '0'] }] },
      }),
    );
  }

  /** From now on, answers wait until `release`. */
  hold(): void {
    this.holding = true;
  }

  /** Answers every held query and stops holding. */
  release(): void {
    this.holding = false;
    for (const response of this.held.splice(0)) this.answer(response);
  }

  stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * engine-availability, an SLO of the service `engine` read with PromQL (error and request counters) from the
 * data source `engine` at `url`, as YAML documents for a definitions folder.
 */
export function engineSlo(url: string, timeout?: string): string {
  return `apiVersion: sloguard/v1
kind: DataSource
metadata: { name: engine }
spec: { type: prometheus, url: "${url}"${timeout ? `, timeout: ${timeout}` : ''} }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: engine-availability, service: engine }
spec:
  indicator:
    source: prometheus
    prometheus:
      dataSource: engine
      bad: sum(increase(errors_total[{{.window}}]))
      total: sum(increase(requests_total[{{.window}}]))
  objective: 99
  window: 28d
`;
}
