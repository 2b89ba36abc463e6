import { createServer, type Server } from 'node:http';
import client, { Registry } from 'prom-client';

/** Requests each scrape adds, by status code: 97.5% are good (status < 500), 2.5% are server errors. */
export const REQUESTS_PER_STEP = { '200': 900, '404': 75, '500': 25 } as const;
export const GOOD_RATIO = (REQUESTS_PER_STEP['200'] + REQUESTS_PER_STEP['404']) / 1000;

/** `http_requests_total` after `steps` steps, as the text format's sample lines with an optional timestamp. */
export function requestSamples(job: string, steps: number, timestampMs?: number): string[] {
  const stamp = timestampMs === undefined ? '' : ` ${timestampMs}`;
  return Object.entries(REQUESTS_PER_STEP).map(
    ([code, perStep]) => `http_requests_total{job="${job}",code="${code}"} ${perStep * steps}${stamp}`,
  );
}

/**
 * A test exporter serving `http_requests_total{code}` with known counters through prom-client, the way an
 * application or LB exporter would. Every scrape first advances all counters by one step, so the counters
 * keep the same proportions at every sample and any window's error ratio is exactly 2.5%.
 */
export class TestExporter {
  steps = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(): Promise<TestExporter> {
    const registry = new Registry();
    const requests = new client.Counter({
      name: 'http_requests_total',
      help: 'HTTP requests served, by status code.',
      labelNames: ['code'],
      registers: [registry],
    });
    let exporter: TestExporter | undefined;
    const server = createServer(async (request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      for (const [code, perStep] of Object.entries(REQUESTS_PER_STEP)) requests.inc({ code }, perStep);
      exporter!.steps += 1;
      response.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
    });
    // Port 0: the OS picks a free port as it binds, so no other process can take it in between.
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    exporter = new TestExporter(server, typeof address === 'object' && address ? address.port : 0);
    return exporter;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
