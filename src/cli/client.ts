import { AnswerTooLarge, readAnswer } from '../net/boundedBody.js';

/**
 * The largest answer the CLI reads: the read API's longest lists are a few MiB. A proxy or a wrong URL answering
 * without end makes the command fail naming this, not fill a CI runner's memory until the timeout.
 */
export const MAX_CLI_ANSWER_BYTES = 64 * 1024 * 1024;

/** One request from the CLI to a sloguard service. */
export interface CallOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  token?: string;
  timeoutMs: number;
}

export type Reply = { response: Response; text: string } | { failure: string };

/**
 * Why a request got no answer, naming the address and the cause fetch hides in `error.cause`
 * (`connect ECONNREFUSED 127.0.0.1:9411`, `getaddrinfo ENOTFOUND sloguard.sre.svc`), or the timeout.
 */
export function unreachable(url: URL, error: unknown, timeoutMs: number): string {
  const failure = error as Error & { cause?: Error & { code?: string } };
  if (failure.name === 'TimeoutError') return `no answer from ${url.origin} within ${timeoutMs / 1000}s`;
  const cause = failure.cause?.message ?? failure.message;
  return `cannot reach ${url.origin}: ${cause}`;
}

/**
 * Calls sloguard with the bearer token and a timeout and reads the answer (at most MAX_CLI_ANSWER_BYTES); a
 * network failure, or an answer too large, comes back described, not thrown.
 */
export async function callSloguard(url: URL, options: CallOptions): Promise<Reply> {
  try {
    const response = await fetch(url, {
      method: options.method ?? 'GET',
      headers: {
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
        ...(options.token && { authorization: `Bearer ${options.token}` }),
      },
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    return { response, text: await readAnswer(response, MAX_CLI_ANSWER_BYTES) };
  } catch (error) {
    if (error instanceof AnswerTooLarge) return { failure: `${url.origin} answered: ${error.message}` };
    return { failure: unreachable(url, error, options.timeoutMs) };
  }
}

/**
 * GETs a JSON answer of the read API for command `command`: the body, or why not (unreachable, an HTTP
 * error with a hint for a missing token, not JSON), ready for stderr.
 */
export async function readJson<T>(
  command: string,
  url: URL,
  options: { token?: string; timeoutMs: number },
): Promise<{ body: T } | { failure: string }> {
  const reply = await callSloguard(url, {
    ...(options.token && { token: options.token }),
    timeoutMs: options.timeoutMs,
  });
  if ('failure' in reply) return { failure: `sloguard ${command}: ${reply.failure}` };
  const text = reply.text;
  if (!reply.response.ok) {
    const hint =
      reply.response.status === 401 ? ' (pass a token with the read scope: --token or $SLOGUARD_TOKEN)' : '';
    return {
      failure: `sloguard ${command}: ${url.href} answered HTTP ${reply.response.status}${hint}: ${text.slice(0, 500)}`,
    };
  }
  try {
    return { body: JSON.parse(text) as T };
  } catch {
    return {
      failure: `sloguard ${command}: ${url.href} answered with a body that is not JSON (is it sloguard?)`,
    };
  }
}
