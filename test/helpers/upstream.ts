import { createServer, type Server } from 'node:http';

/**
 * A tiny upstream for load-balancer tests: answers `?status=N&delay=MS` (defaults 200, 0 ms) on any path,
 * so a test chooses each request's status and latency and can compute the SLI it expects.
 */
export class Upstream {
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<Upstream> {
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://upstream');
      const status = Number(url.searchParams.get('status') ?? 200);
      const delay = Number(url.searchParams.get('delay') ?? 0);
      request.resume();
      setTimeout(() => {
        response.writeHead(status, { 'content-type': 'text/plain' });
        response.end(`status ${status}\n`);
      }, delay);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return new Upstream(server, typeof address === 'object' && address ? address.port : 0);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** One request a test plans to send through a load balancer, and what its SLIs must count. */
export interface PlannedRequest {
  method: 'GET' | 'POST';
  path: string;
  status: number;
  delayMs: number;
}

/** Sends planned requests through `baseUrl`, `concurrency` at a time; resolves with the statuses seen. */
export async function sendPlanned(
  baseUrl: string,
  plan: readonly PlannedRequest[],
  concurrency = 16,
): Promise<number[]> {
  const statuses: number[] = new Array(plan.length);
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const index = next++;
      const request = plan[index]!;
      const separator = request.path.includes('?') ? '&' : '?';
      const response = await fetch(
        `${baseUrl}${request.path}${separator}status=${request.status}&delay=${request.delayMs}`,
        {
          method: request.method,
          ...(request.method === 'POST' && { body: '{}' }),
        },
      );
      await response.arrayBuffer();
      statuses[index] = response.status;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}
