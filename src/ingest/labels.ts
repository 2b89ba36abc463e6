/**
 * The values a series is keyed by (source, service, operation, method) come from request data. Before one
 * makes a series it is checked here, in every thread that parses input: a name with a control character or
 * broken UTF-8 is refused (the line or span is rejected with the reason), an over-long one is folded into
 * the overflow value, and a method outside the standard HTTP set into `OTHER`.
 */

/** Longest label value kept, in UTF-8 bytes; longer ones are counted under OVERFLOW_LABEL. */
export const MAX_LABEL_BYTES = 256;
/** The value a label takes when its own would exceed a cap (length here, counts in cardinality.ts). */
export const OVERFLOW_LABEL = '__overflow__';
/** Every method outside STANDARD_METHODS. */
export const OTHER_METHOD = 'OTHER';

/** RFC 9110's methods and PATCH; `-` is a span's "no method known" (RPC, messaging), `*` a scrape's "all". */
const STANDARD_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  '-',
  '*',
]);

/**
 * C0 controls and DEL (NUL first of all); U+FFFD, which the UTF-8 decoder puts where bytes were not UTF-8;
 * and UTF-16 surrogates without their pair, which JSON `\ud800` escapes and broken protobuf strings make.
 * One character class or one surrogate each: linear, no backtracking.
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for.
  /[\u0000-\u001f\u007f\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A label value refused: the line or span carrying it is rejected with this reason. */
export class LabelRejected extends Error {
  constructor(
    readonly label: string,
    reason: string,
  ) {
    super(`${label} ${reason}`);
    this.name = 'LabelRejected';
  }
}

/** Why a value cannot name a series, or undefined when it can. */
export function labelProblem(value: string): string | undefined {
  const found = UNSAFE.exec(value);
  if (!found) return undefined;
  const code = found[0].charCodeAt(0);
  if (code === 0) return 'contains NUL';
  if (code < 0x20 || code === 0x7f)
    return `contains control character U+${code.toString(16).padStart(4, '0')}`;
  return 'is not valid UTF-8';
}

/** The value kept for a label: itself, or OVERFLOW_LABEL past MAX_LABEL_BYTES; throws LabelRejected. */
export function labelValue(label: string, value: string): string {
  const problem = labelProblem(value);
  if (problem !== undefined) throw new LabelRejected(label, problem);
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no byte count.
  if (value.length * 3 <= MAX_LABEL_BYTES || Buffer.byteLength(value) <= MAX_LABEL_BYTES) return value;
  return OVERFLOW_LABEL;
}

/** The method a series keeps: a standard one as it is, any other as OTHER_METHOD. */
export function methodLabel(method: string): string {
  return STANDARD_METHODS.has(method) ? method : OTHER_METHOD;
}
