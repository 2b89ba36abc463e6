/**
 * Protobuf wire reading the span decoders (Zipkin proto3, OTLP) share to count a body's spans or values before
 * any is decoded.
 */

/**
 * The varint at `at`: its value and where it ends; undefined past `end` or beyond 8 bytes (2^56; values are
 * exact up to 2^53, which lengths and tags never reach).
 */
export function varintAt(
  body: Uint8Array,
  at: number,
  end = body.length,
): [value: number, next: number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < end && i < at + 8; i++) {
    const byte = body[i]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, i + 1];
    scale *= 128;
  }
  return undefined;
}
