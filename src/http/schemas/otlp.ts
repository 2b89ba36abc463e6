import Type from 'typebox';
import { Answer, errors } from './common.js';

const PartialSuccess = Answer({
  rejectedSpans: Type.String({ description: 'spans refused (an int64, as OTLP/JSON writes them)' }),
  errorMessage: Type.String({ description: 'how many spans were refused and why the first was' }),
});

/**
 * `POST /v1/traces`: an ExportTraceServiceResponse in the request's encoding (OTLP/JSON shown; protobuf for
 * application/x-protobuf), with `partialSuccess` when some spans were refused.
 */
export const TracesExported = {
  200: {
    description: 'the spans were stored, but for those counted in partialSuccess',
    content: {
      'application/json': { schema: Answer({ partialSuccess: Type.Optional(PartialSuccess) }) },
      'application/x-protobuf': { schema: Type.String({ description: 'ExportTraceServiceResponse' }) },
    },
  },
  ...errors(400, 413, 415, 503),
};

const MetricsPartialSuccess = Answer({
  rejectedDataPoints: Type.String({
    description: 'data points refused (an int64, as OTLP/JSON writes them)',
  }),
  errorMessage: Type.String({ description: 'how many data points were refused and why the first was' }),
});

/**
 * `POST /v1/metrics`: an ExportMetricsServiceResponse in the request's encoding, with `partialSuccess` when some
 * data points were refused.
 */
export const MetricsExported = {
  200: {
    description: 'the data points were counted, but for those counted in partialSuccess',
    content: {
      'application/json': { schema: Answer({ partialSuccess: Type.Optional(MetricsPartialSuccess) }) },
      'application/x-protobuf': { schema: Type.String({ description: 'ExportMetricsServiceResponse' }) },
    },
  },
  ...errors(400, 413, 415, 503),
};
