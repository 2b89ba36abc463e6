import Type from 'typebox';

/** Our gate fields, as a query string or a JSON body. */
const GateFields = {
  service: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  environment: Type.Optional(Type.String({ maxLength: 128 })),
  version: Type.Optional(Type.String({ maxLength: 256 })),
  sha: Type.Optional(Type.String({ maxLength: 256 })),
  change_type: Type.Optional(Type.String()),
  run_url: Type.Optional(Type.String({ maxLength: 2048 })),
};
export const GateQuery = Type.Object({ ...GateFields, codes: Type.Optional(Type.Literal('body')) });
/** Our fields, or Flagger's webhook payload unchanged (name, namespace, phase, checksum, metadata). */
const FlaggerFields = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  namespace: Type.Optional(Type.String({ maxLength: 256 })),
  phase: Type.Optional(Type.String({ maxLength: 64 })),
  checksum: Type.Optional(Type.String({ maxLength: 256 })),
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
};
export const GateBody = Type.Union([Type.Object({ ...GateFields, ...FlaggerFields }), Type.Null()]);
export const EvaluationBody = Type.Object({
  ...GateFields,
  ...FlaggerFields,
  wait: Type.Optional(Type.String({ maxLength: 16 })),
});
