/**
 * Reading what a remote server answers, bounded ([security](../../docs/security.md#answers-from-other-servers)).
 * A chat service, engine or scrape target answering with a body of gigabytes, or one that never ends, costs at
 * most the limit plus one network chunk of memory, and no wait past the chunk that crosses the limit: the read
 * stops there and cancels the rest of the stream, which closes the connection.
 */

/** How much of an error answer a log line or an outbox row keeps: enough for any server's own message. */
export const ANSWER_DETAIL_BYTES = 4096;

/** An answer longer than its reader's maximum; nothing of it is kept. */
export class AnswerTooLarge extends Error {
  override name = 'AnswerTooLarge';

  constructor(readonly maxBytes: number) {
    super(`the answer is larger than the maximum of ${maxBytes} bytes`);
  }
}

/** The body as UTF-8 text up to `maxBytes`, and whether more followed (then the rest is cancelled unread). */
async function readUpTo(response: Response, maxBytes: number): Promise<{ text: string; cut: boolean }> {
  const reader = response.body?.getReader();
  if (!reader) return { text: '', cut: false };
  // Decoding as a stream holds back a character cut at a chunk's end (or at the limit) instead of failing on
  // it; bytes that are not UTF-8 at all become U+FFFD.
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let bytes = 0;
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) {
        parts.push(decoder.decode());
        return { text: parts.join(''), cut: false };
      }
      const room = maxBytes - bytes;
      if (chunk.value.byteLength > room) {
        parts.push(decoder.decode(chunk.value.subarray(0, room), { stream: true }));
        // What the rest would have said is not wanted, so a failure to cancel it changes nothing.
        await reader.cancel().catch(() => undefined);
        return { text: parts.join(''), cut: true };
      }
      bytes += chunk.value.byteLength;
      parts.push(decoder.decode(chunk.value, { stream: true }));
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * The start of an answer for a log line or a stored reason: at most `maxBytes` of it, marked `…` when cut. Never
 * throws: an answer that fails mid-body (reset, timed out) has no detail, and the status says what happened.
 */
export async function readAnswerStart(response: Response, maxBytes = ANSWER_DETAIL_BYTES): Promise<string> {
  try {
    const { text, cut } = await readUpTo(response, maxBytes);
    return cut ? `${text}…` : text;
  } catch {
    return '';
  }
}

/**
 * A whole answer as text, at most `maxBytes`; a longer one (by its Content-Length, or once read past the limit)
 * throws AnswerTooLarge. Read errors (a reset, the request's abort signal) are thrown as they come.
 */
export async function readAnswer(response: Response, maxBytes: number): Promise<string> {
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new AnswerTooLarge(maxBytes);
  }
  const { text, cut } = await readUpTo(response, maxBytes);
  if (cut) throw new AnswerTooLarge(maxBytes);
  return text;
}
