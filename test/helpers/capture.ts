import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/** One request the capture server saw, and the status it answered. */
export interface CapturedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  status: number;
  atMs: number;
}

export interface CaptureAnswer {
  status: number;
  headers?: Record<string, string>;
}

/**
 * A webhook receiver on 127.0.0.1 for notification tests: records every request with its JSON body and
 * answers what the test chooses (200 by default; 503 during an outage).
 */
export class CaptureServer {
  readonly requests: CapturedRequest[] = [];
  private answer: (request: { path: string; body: unknown }) => CaptureAnswer = () => ({ status: 200 });

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<CaptureServer> {
    let capture: CaptureServer | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const path = request.url ?? '/';
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON: kept as text, and the test's assertions will say so.
        }
        const answer = capture!.answer({ path, body });
        capture!.requests.push({
          method: request.method ?? '',
          path,
          headers: request.headers,
          body,
          status: answer.status,
          atMs: Date.now(),
        });
        response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        response.end(answer.status < 300 ? 'ok' : 'unavailable');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    capture = new CaptureServer(server, typeof address === 'object' && address ? address.port : 0);
    return capture;
  }

  /** Chooses the answer to every following request. */
  respond(answer: (request: { path: string; body: unknown }) => CaptureAnswer): void {
    this.answer = answer;
  }

  /** Requests that were answered with a 2xx: what the receiver really took. */
  accepted(): CapturedRequest[] {
    return this.requests.filter((request) => request.status < 300);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
