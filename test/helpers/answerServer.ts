import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';

/**
 * What the server answers: a status, headers, and a body that ends; or pieces written apart (a pause between
 * them, so each reaches the client as its own chunk); or `head` then filler that never ends. Or nothing ever
 * (`silent`): the request is read and the connection held open until the client closes it.
 */
export type Answer =
  | ({ status: number; headers?: Record<string, string> } & (
      | { body: string | Buffer }
      | { pieces: readonly Buffer[] }
      | { head?: string | Buffer; endless: true }
    ))
  | { silent: true };

/**
 * One request the server answered: its headers, the body it was sent (once read whole), bytes it wrote of its
 * answer's body, and whether the client has closed it.
 */
export interface Answered {
  headers: IncomingHttpHeaders;
  request?: string;
  bytesWritten: number;
  closed: boolean;
}

const FILLER = Buffer.alloc(64 * 1024, 'x');

/**
 * A receiver, engine or scrape target on 127.0.0.1 whose answer the test sets. An endless answer is written as
 * fast as the client reads it (at line rate, waiting on the socket's backpressure) until the client closes the
 * connection, so `bytesWritten` says how much a client took before it stopped.
 */
export class AnswerServer {
  readonly answered: Answered[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    public answer: Answer,
  ) {}

  static async start(answer: Answer): Promise<AnswerServer> {
    let self: AnswerServer | undefined;
    const server = createServer((request, response) => {
      if (!self) return;
      const answered = self.respond(request.headers, response);
      const parts: Buffer[] = [];
      request.on('data', (part: Buffer) => parts.push(part));
      request.on('end', () => {
        answered.request = Buffer.concat(parts).toString();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    self = new AnswerServer(server, `http://127.0.0.1:${port}`, answer);
    return self;
  }

  private respond(headers: IncomingHttpHeaders, response: ServerResponse): Answered {
    const answered: Answered = { headers, bytesWritten: 0, closed: false };
    this.answered.push(answered);
    response.on('close', () => {
      answered.closed = true;
    });
    const answer = this.answer;
    if (!('status' in answer)) return answered;
    response.writeHead(answer.status, { 'content-type': 'text/plain; charset=utf-8', ...answer.headers });
    if ('body' in answer) {
      answered.bytesWritten = Buffer.byteLength(answer.body);
      response.end(answer.body);
      return answered;
    }
    if ('pieces' in answer) {
      const next = (index: number) => {
        const piece = answer.pieces[index];
        if (piece === undefined || answered.closed) {
          response.end();
          return;
        }
        answered.bytesWritten += piece.byteLength;
        response.write(piece, () => setTimeout(() => next(index + 1), 20));
      };
      next(0);
      return answered;
    }
    if (answer.head !== undefined) {
      answered.bytesWritten += Buffer.byteLength(answer.head);
      response.write(answer.head);
    }
    const pour = () => {
      while (!answered.closed) {
        answered.bytesWritten += FILLER.byteLength;
        if (!response.write(FILLER)) {
          response.once('drain', pour);
          return;
        }
      }
    };
    pour();
    return answered;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
