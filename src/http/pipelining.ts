import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Requests one connection may have waiting for their answers. Browsers and HTTP clients do not pipeline (or
 * keep a few in flight); a client that sends hundreds and never reads its answers pins every queued answer
 * and its request in memory. Past this many its connection is closed.
 */
export const MAX_PENDING_PER_CONNECTION = 16;

/** Closes connections that pipeline more than MAX_PENDING_PER_CONNECTION unanswered requests. */
export function boundPipelining(app: FastifyInstance): void {
  const pending = new WeakMap<Socket, number>();
  app.addHook('onRequest', (request, reply, done) => {
    const socket = request.raw.socket;
    const count = (pending.get(socket) ?? 0) + 1;
    if (count > MAX_PENDING_PER_CONNECTION || socket.destroyed) {
      // Answered by closing: the requests already read from this connection follow it here, unlogged.
      if (!socket.destroyed) {
        request.log.warn(
          { pending: count - 1 },
          'connection closed: too many pipelined requests left unread',
        );
        socket.destroy();
      }
      reply.hijack();
      return;
    }
    pending.set(socket, count);
    reply.raw.on('close', answered);
    done();
  });
  // One listener for every response (a closure per request cost the floor of every answer); a response
  // closes once, and its request keeps the socket it came on.
  function answered(this: ServerResponse) {
    const socket = this.req.socket;
    pending.set(socket, (pending.get(socket) ?? 1) - 1);
  }
}
