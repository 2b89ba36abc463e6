import type { TLocalizedValidationError } from 'typebox/error';

/**
 * How a schema error is told to a person: the field it names and a sentence to act on. Shared by the settings
 * files, the definition files and the HTTP API, so each names a field the same way.
 */

/** A schema error as the field it names (as path keys), whether it is about the key itself, and why. */
export interface SchemaProblem {
  path: string[];
  atKey: boolean;
  reason: string;
}

/** The keys of a JSON pointer such as a schema error's instancePath (RFC 6901: `~1` is "/", `~0` is "~"). */
export function pointerKeys(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * The field a JSON pointer names, as messages name fields: `/spec/window` → `spec.window`, list items by index
 * (`spec.components.0.slo`), the document itself → "".
 */
export function pointerField(pointer: string): string {
  return pointerKeys(pointer).join('.');
}

/** Turns a schema error into the field it names and a sentence a person can act on. */
export function describe(error: TLocalizedValidationError): SchemaProblem {
  const path = pointerKeys(error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    const extra = (params.additionalProperties as string[])[0]!;
    return { path: [...path, extra], atKey: true, reason: `unknown field "${extra}"` };
  }
  if (error.keyword === 'required') {
    const missing = (params.requiredProperties as string[] | undefined)?.[0];
    return { path, atKey: true, reason: missing ? `missing required field "${missing}"` : error.message };
  }
  if (error.keyword === 'const')
    return { path, atKey: false, reason: `must be "${String(params.allowedValue)}"` };
  if (error.keyword === 'pattern' && path.at(-1) === 'name') {
    return {
      path,
      atKey: false,
      reason: 'must be an RFC-1123 name: lower-case letters, digits and "-", at most 63',
    };
  }
  return { path, atKey: false, reason: error.message };
}

/**
 * Of all schema errors, the one a person should fix first: an unknown field (usually a typo, which also
 * makes the intended field "missing"), then the deepest path, which is the most specific.
 */
export function mostUseful(errors: TLocalizedValidationError[]): TLocalizedValidationError | undefined {
  const rank = (e: TLocalizedValidationError) =>
    (e.keyword === 'additionalProperties' ? 1000 : 0) +
    e.instancePath.split('/').length -
    (e.keyword === 'boolean' ? 2000 : 0);
  return errors.reduce<TLocalizedValidationError | undefined>(
    (best, e) => (!best || rank(e) > rank(best) ? e : best),
    undefined,
  );
}
