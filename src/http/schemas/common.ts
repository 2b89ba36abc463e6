import Type, { type TProperties, type TSchema } from 'typebox';

/**
 * A JSON answer: an object whose every field is declared, so a field a route adds without declaring it fails
 * the response check (docs/api.md#openapi) instead of slipping past the documented contract.
 */
export const Answer = <T extends TProperties>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description && { description }) });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A time as the API writes it (ISO 8601, UTC), or null where none applies. */
export const IsoTime = Type.String({ description: 'ISO 8601 time, UTC' });
export const OptionalTime = Nullable(IsoTime);

/** The one error shape of the API (http/errors.ts). */
export const ErrorBody = Answer(
  {
    error: Type.String({ description: 'a stable code, e.g. invalid_request, not_found, unauthorized' }),
    message: Type.String({ description: 'what went wrong and why' }),
    field: Type.Optional(Type.String({ description: 'where: the request field at fault' })),
  },
  'the error shape of every 4xx and 5xx answer',
);

/** Error answers a route gives on purpose (the generic ones are added for every route: http/contract.ts). */
export const errors = (...codes: number[]): Record<number, typeof ErrorBody> =>
  Object.fromEntries(codes.map((code) => [code, ErrorBody]));

/** A non-JSON answer (a page, a script, the metrics text), documented by content type. */
export const content = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: Type.String() } },
});
