import Type from 'typebox';
import { Answer, errors } from './common.js';

/**
 * An OTLP export's answer in the request's encoding (OTLP/JSON shown; protobuf for application/x-protobuf), with
 * `partialSuccess` when some of what it carried (`what`) was refused; `field` counts them.
 */
function exportAnswered(response: string, field: string, what: string) {
  const PartialSuccess = Answer({
    [field]: Type.String({ description: `${what} refused (an int64, as OTLP/JSON writes them)` }),
    errorMessage: Type.String({ description: `how many ${what} were refused and why the first was` }),
  });
  return {
    200: {
      description: `the ${what} were taken, but for those counted in partialSuccess`,
      content: {
        'application/json': { schema: Answer({ partialSuccess: Type.Optional(PartialSuccess) }) },
        'application/x-protobuf': { schema: Type.String({ description: response }) },
      },
    },
    ...errors(400, 413, 415, 503),
  };
}

/** `POST /v1/traces`: an ExportTraceServiceResponse. */
export const TracesExported = exportAnswered('ExportTraceServiceResponse', 'rejectedSpans', 'spans');

/** `POST /v1/metrics`: an ExportMetricsServiceResponse. */
export const MetricsExported = exportAnswered(
  'ExportMetricsServiceResponse',
  'rejectedDataPoints',
  'data points',
);
