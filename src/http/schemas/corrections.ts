import Type from 'typebox';
import { CorrectionSpec } from '../../definitions/corrections.js';
import { Answer, errors, Nullable, OptionalTime } from './common.js';

/** A correction with who made it and, once deleted, who deleted it (nothing is erased). */
const Correction = Answer({
  id: Type.String(),
  origin: Type.Union([Type.Literal('file'), Type.Literal('api')]),
  ...CorrectionSpec.properties,
  actor: Nullable(Type.String()),
  created_at: OptionalTime,
  deleted_at: OptionalTime,
  deleted_by: Nullable(Type.String()),
  active: Type.Boolean(),
  file: Type.Optional(
    Type.String({ description: 'file:line of a correction declared in a definitions file' }),
  ),
});
export const CorrectionCreated = { 201: Correction, ...errors(409) };
export const CorrectionList = { 200: Answer({ corrections: Type.Array(Correction) }) };
export const CorrectionOne = { 200: Correction, ...errors(404) };
export const CorrectionDeleted = { 200: Correction, ...errors(404, 409) };
