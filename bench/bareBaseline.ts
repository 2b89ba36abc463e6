/**
 * A bench's bare baseline server in its own process, so the load generator and the server do not share a
 * core: the bench file run again with `serve` builds its bare fastify app, `serveBare` listens and prints the
 * URL, and `startBare` (in the bench) reads it.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { FastifyInstance } from 'fastify';
import { stopChild } from '../test/helpers/process.js';

/** Listens on a free loopback port and prints the URL on stdout; serves until killed. */
export async function serveBare(app: FastifyInstance): Promise<void> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.stdout.write(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
}

/** Runs `benchFile serve` with tsx; resolves with its URL once it listens. */
export async function startBare(benchFile: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', benchFile, 'serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`baseline server exited ${code}`)));
  });
  return { url, pid: child.pid!, stop: async () => void (await stopChild(child)) };
}
