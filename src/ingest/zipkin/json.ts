import { checkSpanCount, SpanReader, SpansRejected, type ZipkinSpan } from './span.js';

const reader = new SpanReader('json');
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

function firstNonSpace(body: Buffer): number {
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return byte;
  }
  return -1;
}

/**
 * Elements of the top-level JSON array, counted by one pass over the bytes (strings skipped) before any
 * parsing: the count decides whether the body is parsed at all. Malformed JSON is left to JSON.parse.
 */
export function countJsonListItems(body: Buffer): number {
  let depth = 0;
  let items = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
      if (depth === 1) items++;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (depth === 1) items++;
      depth++;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) depth--;
    else if (depth === 1 && byte !== COMMA && byte > 0x20) {
      // A bare value (number, literal) in the list: counted at its first byte.
      items++;
      while (
        i + 1 < body.length &&
        body[i + 1]! > 0x20 &&
        body[i + 1] !== COMMA &&
        body[i + 1] !== CLOSE_BRACKET
      )
        i++;
    }
  }
  return items;
}

/**
 * Bodies up to this size are parsed before their items are counted: even a list of the smallest items (`{}`,
 * `[]`) it can hold parses into a few tens of MB, while the count would cost a third of a typical batch's
 * parse. Bigger bodies are counted first, so a huge list of tiny items is refused before it takes memory.
 */
const COUNT_FIRST_BYTES = 1024 * 1024;

/** Decodes a JSON_V2 list of spans; an empty body or `[]` is an empty list, as in Zipkin. */
export function decodeJsonSpans(body: Buffer): ZipkinSpan[] {
  const first = firstNonSpace(body);
  if (first === -1) return [];
  if (first !== OPEN_BRACKET) throw new SpansRejected('Expected a JSON_V2 encoded list', '$');
  if (body.length > COUNT_FIRST_BYTES) checkSpanCount(countJsonListItems(body));
  let list: unknown;
  try {
    list = JSON.parse(body.toString('utf8'));
  } catch {
    return reader.malformedList();
  }
  if (!Array.isArray(list)) return reader.malformedList();
  checkSpanCount(list.length);
  return reader.readList(list);
}
