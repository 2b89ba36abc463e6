import Type from 'typebox';
import { Answer, content, errors } from './common.js';

export const Health = { 200: Answer({ status: Type.Literal('ok') }) };

const Counts = {
  /** `last_run`: the statuses stored by the last run, until this process's first evaluation ends. */
  statuses: Type.Union([Type.Literal('evaluated'), Type.Literal('last_run')]),
  evaluated: Type.Number(),
  defined: Type.Number(),
};
/**
 * Ready once this process has evaluated, or the last run's stored statuses cover every SLO; 503 while
 * starting or once the database is lost.
 */
export const Readiness = {
  200: Answer({ status: Type.Literal('ready'), ...Counts }),
  503: Type.Union([
    Answer({ status: Type.Literal('starting'), ...Counts }),
    Answer({ status: Type.Literal('storage_lost'), reason: Type.String() }),
  ]),
};

export const Metrics = {
  200: content('text/plain', 'the Prometheus text format'),
  ...errors(503),
};

/** `POST /-/reload`: 200 once the new set runs, 422 when it was refused (the old set keeps running). */
export const Reloaded = {
  200: Answer({ status: Type.Literal('reloaded'), slos: Type.Number() }),
  ...errors(422),
};

/** A page or asset of the dashboard; 304 when the caller's ETag matches. */
export const StaticAnswers = (type: string) => ({
  200: content(type, 'the file'),
  304: Type.Null({ description: 'not modified (ETag)' }),
  ...errors(404),
});
