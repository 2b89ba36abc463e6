import Type from 'typebox';
import { Answer, errors } from './common.js';

/** Access-log lines: what became of the batch (ingest/loadbalancer/lines.ts LineSummary). */
export const LinesIngested = {
  202: Answer({
    accepted: Type.Number(),
    rejected: Type.Number(),
    skipped: Type.Number(),
    reasons: Type.Record(Type.String(), Type.Number(), { description: 'rejected lines by reason' }),
    problems: Type.Array(Answer({ line: Type.Number(), reason: Type.String() }), {
      description: 'the first rejected or skipped lines (1-based) with their reasons',
    }),
  }),
};

/** Zipkin spans: the batch was stored whole (or refused whole with a 4xx). */
export const SpansIngested = {
  202: Answer({
    received: Type.Number({ description: 'spans in the batch, all valid' }),
    counted: Type.Number({ description: 'spans that became observations' }),
  }),
};
export const IngestErrors = errors(400, 413, 415, 503);
