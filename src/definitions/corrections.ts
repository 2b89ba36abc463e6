import Type, { type Static } from 'typebox';
import type { Correction } from '../model/correction.js';
import type { SloDefinition } from '../model/slo.js';
import type { TimeWindow } from '../model/timeWindow.js';
import { RFC1123_NAME } from './schema.js';
import { check } from './schemaCheck.js';
import {
  readTimeWindow,
  TimeWindowError,
  type TimeWindowInput,
  TimeWindowSchema,
  timeWindowInput,
} from './timeWindows.js';
import { DefinitionError, type YamlDocument } from './yamlSource.js';

const NAMES = Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1, maxItems: 200 });

/** What a correction says, in a file's `spec` and in the API's request body alike. */
export const CorrectionSpec = Type.Object(
  {
    reason: Type.String({ minLength: 1, maxLength: 2000 }),
    mode: Type.Union([Type.Literal('exclude'), Type.Literal('planned')]),
    window: TimeWindowSchema,
    appliesTo: Type.Object(
      {
        slos: Type.Optional(NAMES),
        services: Type.Optional(NAMES),
        labels: Type.Optional(
          Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 256 }), {
            maxProperties: 20,
          }),
        ),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
  },
  { additionalProperties: false },
);
export type CorrectionSpec = Static<typeof CorrectionSpec>;

const CorrectionDocument = Type.Object(
  {
    apiVersion: Type.Literal('sloguard/v1'),
    kind: Type.Literal('Correction'),
    metadata: Type.Object({ name: Type.String({ pattern: RFC1123_NAME }) }, { additionalProperties: false }),
    spec: CorrectionSpec,
  },
  { additionalProperties: false },
);
type CorrectionDocument = Static<typeof CorrectionDocument>;

/** A spec's window, read; a wrong field throws TimeWindowError naming it under `window.`. */
export function correctionWindow(window: TimeWindowInput): TimeWindow {
  try {
    return readTimeWindow(window);
  } catch (error) {
    if (error instanceof TimeWindowError) throw new TimeWindowError(`window.${error.field}`, error.reason);
    throw error;
  }
}

/** Validates one `kind: Correction` document, or throws its first problem at file:line:column. */
export function readCorrection(document: YamlDocument): Correction {
  const { metadata, spec } = check<CorrectionDocument>(CorrectionDocument, document);
  let window: TimeWindow;
  try {
    window = correctionWindow(spec.window);
  } catch (error) {
    if (!(error instanceof TimeWindowError)) throw error;
    const path = ['spec', ...error.field.split('.')];
    throw new DefinitionError(document.locate(path), path.join('.'), error.reason);
  }
  return {
    id: metadata.name,
    origin: 'file',
    mode: spec.mode,
    window,
    appliesTo: spec.appliesTo,
    reason: spec.reason,
    actor: null,
    createdAtMs: null,
    location: document.locate([]),
    slosLocation: document.locate(['spec', 'appliesTo', 'slos']),
  };
}

/** Whether a correction covers an SLO. */
export function covers(correction: Correction, definition: SloDefinition): boolean {
  const { slos, services, labels } = correction.appliesTo;
  return (
    (slos === undefined || slos.includes(definition.name)) &&
    (services === undefined || services.includes(definition.service)) &&
    (labels === undefined || Object.entries(labels).every(([k, v]) => definition.labels[k] === v))
  );
}

/** The declared form, as the API answers it. */
export function correctionSpec(correction: Correction): CorrectionSpec {
  return {
    reason: correction.reason,
    mode: correction.mode,
    window: timeWindowInput(correction.window),
    appliesTo: correction.appliesTo,
  };
}
