import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttributeNames, scalarAttributes } from '../../src/ingest/otlp/proto.js';
import { SPAN_TAG_NAMES } from '../../src/ingest/otlp/protoSpans.js';
import { nanosOfBits, nanosOfJson } from '../../src/ingest/otlp/spans.js';
import { ROOT } from '../helpers/service.js';

/** A KeyValue on the wire: key (field 1) and an AnyValue (field 2) holding `value` (already encoded). */
function keyValue(key: string, value: Buffer): Buffer {
  const name = Buffer.from(key);
  return Buffer.concat([Buffer.from([0x0a, name.length]), name, Buffer.from([0x12, value.length]), value]);
}
const stringValue = (text: string) =>
  Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(text)]), Buffer.from(text)]);
/** int_value (field 3, varint): two's complement in ten bytes when negative. */
function intValue(value: bigint): Buffer {
  let n = BigInt.asUintN(64, value);
  const bytes = [0x18];
  do {
    const low = Number(n & 0x7fn);
    n >>= 7n;
    bytes.push(n > 0n ? low | 0x80 : low);
  } while (n > 0n);
  return Buffer.from(bytes);
}

describe('OTLP span parts', () => {
  it('keeps every tag the Zipkin rules read (zipkin/observe.ts), so skipping the others changes no count', () => {
    const source = readFileSync(join(ROOT, 'src/ingest/zipkin/observe.ts'), 'utf8');
    const read = new Set<string>();
    for (const match of source.matchAll(/tags\['([^']+)'\]|'([^']+)' in tags/g))
      read.add(match[1] ?? match[2]!);
    const paths = /PATH_TAGS = \[([^\]]+)\]/.exec(source)?.[1] ?? '';
    for (const match of paths.matchAll(/'([^']+)'/g)) read.add(match[1]!);
    expect(read.size).toBeGreaterThanOrEqual(10);
    expect([...read].filter((name) => !(SPAN_TAG_NAMES as readonly string[]).includes(name))).toEqual([]);
  });

  it('reads times in nanoseconds exactly, beyond the 53 bits of a double (to the year 2096)', () => {
    for (const nanos of [
      0n,
      999n,
      1_000n,
      1_764_800_000_123_456_789n,
      2n ** 62n + 12_345n,
      4_000_000_000_000_000_999n,
    ]) {
      const low = Number(nanos & 0xffff_ffffn) | 0;
      const high = Number(nanos >> 32n) | 0;
      const expected = { micros: Number(nanos / 1000n), rest: Number(nanos % 1000n) };
      expect(nanosOfBits(low, high)).toEqual(expected);
      expect(nanosOfJson(String(nanos))).toEqual(expected);
    }
    expect(nanosOfJson('-1')).toBeUndefined();
    expect(nanosOfJson('1.5')).toBeUndefined();
    expect(nanosOfJson(1.5)).toBeUndefined();
    expect(nanosOfJson('123456789012345678901')).toBeUndefined();
  });

  it('turns scalar attributes into text as the Zipkin exporter does, and skips the others unread', () => {
    const names = new AttributeNames(['a', 'b', 'c', 'd', 'e', 'f']);
    const tags = scalarAttributes(
      [
        keyValue('a', stringValue('x')),
        keyValue('b', intValue(503n)),
        keyValue('c', intValue(-2n)),
        keyValue('d', intValue(2n ** 62n)),
        keyValue('e', Buffer.from([0x10, 0x01])),
        // double 0.25, then an array value (field 5) that replaces it: no text.
        keyValue('f', Buffer.from([0x21, 0, 0, 0, 0, 0, 0, 0xd0, 0x3f, 0x2a, 0x00])),
        keyValue('unread', Buffer.from([0xff])),
      ],
      names,
      {},
    );
    expect(tags).toEqual({ a: 'x', b: '503', c: '-2', d: String(2n ** 62n), e: 'true' });
    const double = scalarAttributes(
      [keyValue('f', Buffer.from([0x21, 0, 0, 0, 0, 0, 0, 0xd0, 0x3f]))],
      names,
      {},
    );
    expect(double).toEqual({ f: '0.25' });
    expect(() => scalarAttributes([Buffer.from([0x0a, 0x05, 0x61])], names, {})).toThrow(/overruns/);
    expect(() => scalarAttributes([Buffer.from([0x0a, 0x01, 0x61, 0x12, 0x09, 0x0a])], names, {})).toThrow(
      /overruns/,
    );
  });
});
