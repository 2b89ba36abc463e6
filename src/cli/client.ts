/** One request from the CLI to a sloguard service. */
export interface CallOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  token?: string;
  timeoutMs: number;
}

export type Reply = { response: Response } | { failure: string };

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

/** Calls sloguard with the bearer token and a timeout; a network failure comes back described, not thrown. */
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
    return { response };
  } catch (error) {
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
  const text = await reply.response.text();
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
