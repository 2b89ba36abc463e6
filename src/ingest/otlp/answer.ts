import type { OtlpMetricSummary } from './metrics.js';
import { ExportMetricsServiceResponse } from './metricsProto.js';
import { ExportTraceServiceResponse, RpcStatus } from './proto.js';
import type { OtlpTraceSummary } from './spans.js';

/** OTLP/JSON's ExportTraceServiceResponse: empty when every span was taken. */
export interface TraceAnswerJson {
  partialSuccess?: { rejectedSpans: string; errorMessage: string };
}

/** The answer to an export, as OTLP/HTTP asks: partial success only when spans were refused. */
export function traceAnswer(summary: OtlpTraceSummary): TraceAnswerJson {
  if (summary.rejected === 0) return {};
  return {
    partialSuccess: { rejectedSpans: String(summary.rejected), errorMessage: summary.rejection ?? '' },
  };
}

/** The same answer in protobuf. */
export function encodeTraceAnswer(answer: TraceAnswerJson): Buffer {
  const message = answer.partialSuccess
    ? {
        partialSuccess: {
          rejectedSpans: Number(answer.partialSuccess.rejectedSpans),
          errorMessage: answer.partialSuccess.errorMessage,
        },
      }
    : {};
  return Buffer.from(
    ExportTraceServiceResponse.encode(ExportTraceServiceResponse.fromObject(message)).finish(),
  );
}

/** OTLP/JSON's ExportMetricsServiceResponse: empty when every data point was taken. */
export interface MetricsAnswerJson {
  partialSuccess?: { rejectedDataPoints: string; errorMessage: string };
}

/** The answer to a metrics export: partial success only when data points were refused. */
export function metricsAnswer(summary: OtlpMetricSummary): MetricsAnswerJson {
  if (summary.rejected === 0) return {};
  return {
    partialSuccess: {
      rejectedDataPoints: String(summary.rejected),
      errorMessage: summary.rejection ?? '',
    },
  };
}

/** The same answer in protobuf. */
export function encodeMetricsAnswer(answer: MetricsAnswerJson): Buffer {
  const message = answer.partialSuccess
    ? {
        partialSuccess: {
          rejectedDataPoints: Number(answer.partialSuccess.rejectedDataPoints),
          errorMessage: answer.partialSuccess.errorMessage,
        },
      }
    : {};
  return Buffer.from(
    ExportMetricsServiceResponse.encode(ExportMetricsServiceResponse.fromObject(message)).finish(),
  );
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
