import { ListOfSpans } from '../../src/ingest/zipkin/proto.js';

/** The fields of a JSON_V2 span that proto3 encodes differently. */
export interface JsonSpanIds {
  traceId: string;
  id: string;
  parentId?: string;
  localEndpoint?: { serviceName: string };
}

/** A JSON_V2 list as a proto3 ListOfSpans body: hex ids become bytes, endpoints keep their service name. */
export function protoSpans(spans: readonly JsonSpanIds[]): Buffer {
  const bytes = (hex: string) => Buffer.from(hex.padStart(16, '0'), 'hex');
  return Buffer.from(
    ListOfSpans.encode(
      ListOfSpans.fromObject({
        spans: spans.map((s) => ({
          ...s,
          traceId: bytes(s.traceId),
          id: bytes(s.id),
          parentId: s.parentId ? bytes(s.parentId) : undefined,
          localEndpoint: s.localEndpoint && { serviceName: s.localEndpoint.serviceName },
        })),
      }),
    ).finish(),
  );
}
