import { SpanReader, SpansRejected, type ZipkinSpan } from './span.js';

const reader = new SpanReader('json');
const OPEN_BRACKET = 0x5b;

function firstNonSpace(body: Buffer): number {
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return byte;
  }
  return -1;
}

/** Decodes a JSON_V2 list of spans; an empty body or `[]` is an empty list, as in Zipkin. */
export function decodeJsonSpans(body: Buffer): ZipkinSpan[] {
  const first = firstNonSpace(body);
  if (first === -1) return [];
  if (first !== OPEN_BRACKET) throw new SpansRejected('Expected a JSON_V2 encoded list', '$');
  let list: unknown;
  try {
    list = JSON.parse(body.toString('utf8'));
  } catch {
    return reader.malformedList();
  }
  if (!Array.isArray(list)) return reader.malformedList();
  return reader.readList(list);
}
