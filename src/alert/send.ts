import type { OutgoingRequest } from '../model/notification.js';
import { readAnswerStart } from '../net/boundedBody.js';

/** What one attempt came to: delivered, worth retrying (5xx, 429, 408, network), or refused for good. */
export type Delivery =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'retry'; reason: string; retryAfterMs?: number }
  | { outcome: 'rejected'; reason: string };

export interface SendOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  nowMs?: number;
}

/** The target's URL with the request's path and query; never logged or put in a message (it is a secret). */
export function requestUrl(base: string, request: OutgoingRequest): URL {
  const url = new URL(base);
  if (request.path) url.pathname = `${url.pathname.replace(/\/+$/, '')}${request.path}`;
  for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
  return url;
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Why a request failed without an answer, without the URL that undici puts in some messages. */
function networkReason(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: { code?: string } };
  if (err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return `network error (${err.cause?.code ?? err.name})`;
}

/** POSTs one request as JSON and says what became of it: the one sender all kinds share. */
export async function send(
  base: string,
  request: OutgoingRequest,
  options: SendOptions = {},
): Promise<Delivery> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(requestUrl(base, request), {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(request.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { outcome: 'retry', reason: networkReason(error, timeoutMs) };
  }
  if (response.ok) {
    await response.body?.cancel();
    return { outcome: 'delivered', status: response.status };
  }
  const detail = await readAnswerStart(response);
  const reason = `HTTP ${response.status}${detail ? `: ${detail}` : ''}`;
  if (response.status >= 500 || response.status === 429 || response.status === 408) {
    const after = retryAfterMs(response.headers.get('retry-after'), options.nowMs ?? Date.now());
    return { outcome: 'retry', reason, ...(after !== undefined && { retryAfterMs: after }) };
  }
  return { outcome: 'rejected', reason };
}
