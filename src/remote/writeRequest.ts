import protobuf from 'protobufjs';
import snappy from 'snappyjs';

/**
 * Prometheus remote write 1.0: `prometheus.WriteRequest` (prompb/remote.proto, types.proto), declared with
 * protobufjs' reflection API, compressed with snappy's block format. Field numbers and types are the wire
 * contract; only what a collector sends is declared (no exemplars, histograms or metadata).
 */
const { Field, Root, Type } = protobuf;

const root = new Root();
root
  .define('prometheus')
  .add(new Type('Label').add(new Field('name', 1, 'string')).add(new Field('value', 2, 'string')))
  .add(new Type('Sample').add(new Field('value', 1, 'double')).add(new Field('timestamp', 2, 'int64')))
  .add(
    new Type('TimeSeries')
      .add(new Field('labels', 1, 'Label', 'repeated'))
      .add(new Field('samples', 2, 'Sample', 'repeated')),
  )
  .add(new Type('WriteRequest').add(new Field('timeseries', 1, 'TimeSeries', 'repeated')));

const WriteRequest = root.lookupType('prometheus.WriteRequest');

export interface Label {
  name: string;
  value: string;
}

export interface Sample {
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** One series of a write: its labels sorted by name (`__name__` among them), samples oldest first. */
export interface TimeSeries {
  labels: Label[];
  samples: Sample[];
}

/** The headers remote write 1.0 asks for. */
export const REMOTE_WRITE_HEADERS = {
  'content-encoding': 'snappy',
  'content-type': 'application/x-protobuf',
  'x-prometheus-remote-write-version': '0.1.0',
} as const;

/** A WriteRequest of these series, protobuf-encoded and snappy-compressed: the body of one POST. */
export function encodeWriteRequest(timeseries: readonly TimeSeries[]): Uint8Array {
  return snappy.compress(WriteRequest.encode(WriteRequest.create({ timeseries })).finish());
}

/** The series of a body made by `encodeWriteRequest` (tests, and the buffer's sample count). */
export function decodeWriteRequest(body: Uint8Array): TimeSeries[] {
  const message = WriteRequest.toObject(WriteRequest.decode(snappy.uncompress(body)), {
    longs: Number,
    defaults: true,
  }) as { timeseries: TimeSeries[] };
  return message.timeseries;
}
