import { ExportMetricsServiceResponse } from './metricsProto.js';
import { ExportTraceServiceResponse, RpcStatus } from './proto.js';

/** What an export refused one by one, as the span and data point summaries both say it. */
export interface Refused {
  rejected: number;
  rejection?: string;
}

/** Each signal's response message, and the field of its partial success that counts what was refused. */
const RESPONSES = {
  traces: { type: ExportTraceServiceResponse, field: 'rejectedSpans' },
  metrics: { type: ExportMetricsServiceResponse, field: 'rejectedDataPoints' },
} as const;
export type Signal = keyof typeof RESPONSES;

/**
 * OTLP/JSON's Export…ServiceResponse, as OTLP/HTTP asks: empty when everything was taken, else a partial success
 * with the count refused (an int64, so a decimal string) and the message.
 */
export function exportAnswer(signal: Signal, refused: Refused): { partialSuccess?: Record<string, string> } {
  if (refused.rejected === 0) return {};
  return {
    partialSuccess: {
      [RESPONSES[signal].field]: String(refused.rejected),
      errorMessage: refused.rejection ?? '',
    },
  };
}

/** The same answer in protobuf. */
export function encodeExportAnswer(signal: Signal, refused: Refused): Buffer {
  const { type, field } = RESPONSES[signal];
  const message =
    refused.rejected === 0
      ? {}
      : { partialSuccess: { [field]: refused.rejected, errorMessage: refused.rejection ?? '' } };
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

/** gRPC's codes for the HTTP statuses a receiver answers (google.rpc.Code, as the Collector maps them). */
export function rpcCode(status: number): number {
  if (status === 400 || status === 413 || status === 415) return 3; // INVALID_ARGUMENT
  if (status === 401) return 16; // UNAUTHENTICATED
  if (status === 403) return 7; // PERMISSION_DENIED
  if (status === 404) return 5; // NOT_FOUND
  if (status === 429) return 8; // RESOURCE_EXHAUSTED
  if (status === 503) return 14; // UNAVAILABLE
  return 13; // INTERNAL
}

/** A google.rpc.Status in protobuf, for an error answered to a protobuf request. */
export function encodeRpcStatus(code: number, message: string): Buffer {
  return Buffer.from(RpcStatus.encode(RpcStatus.fromObject({ code, message })).finish());
}
