/**
 * The gate bench's baseline: a plain fastify with default settings and one JSON route, run by plain node (no
 * TypeScript loader in its process), answering the JSON document read from the file named by its second
 * argument, so both sides put the same bytes on the wire.
 *
 *   node bench/bareFastify.mjs PORT ANSWER.json
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [port, answerFile] = process.argv.slice(2);
const answer = JSON.parse(readFileSync(answerFile, 'utf8'));
const app = Fastify();
app.get('/bare', async () => answer);
await app.listen({ host: '127.0.0.1', port: Number(port) });
