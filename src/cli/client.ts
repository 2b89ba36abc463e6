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
