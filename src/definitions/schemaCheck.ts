import type { TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { Value } from 'typebox/value';
import { describe, mostUseful, pointerKeys, type SchemaProblem } from '../config/schemaErrors.js';
import { DefinitionError, DocumentErrors, type YamlDocument } from './yamlSource.js';

/** Keywords a union reports at its own path when the problem is deeper in one of its alternatives. */
const UNION_KEYWORDS = new Set(['anyOf', 'oneOf', 'type', 'const']);

/** A path as its JSON pointer (without the leading "/"), the form schema errors name fields in. */
const pointerOf = (path: readonly string[]): string =>
  path.map((key) => key.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/** A schema error as the problems it names: an unknown-fields error names each field. */
function described(error: TLocalizedValidationError): SchemaProblem[] {
  if (error.keyword === 'boolean') return []; // the per-field echo of `additionalProperties: false`
  if (error.keyword !== 'additionalProperties') return [describe(error)];
  const parent = pointerKeys(error.instancePath);
  return (error.params as { additionalProperties: string[] }).additionalProperties.map((extra) => ({
    path: [...parent, extra],
    atKey: true,
    reason: `unknown field "${extra}"`,
  }));
}

/** Each schema compiled once: a valid document (nearly all of them) costs one compiled check. */
const validators = new WeakMap<TSchema, Validator>();

function validatorOf(schema: TSchema): Validator {
  let validator = validators.get(schema);
  if (!validator) {
    validator = Compile(schema);
    validators.set(schema, validator);
  }
  return validator;
}

/**
 * Checks a document against a schema, throwing every problem at its field's file:line:column: per field the
 * most useful error, less what a deeper error explains (a union's verdict on its alternatives, a field
 * "missing" beside an unknown one, which is usually its typo).
 */
export function check<T>(schema: TSchema, document: YamlDocument): T {
  // Listing the errors walks the whole schema (a tenth of a millisecond per SLO): only for a document that fails.
  if (validatorOf(schema).Check(document.value)) return document.value as T;
  const byPath = new Map<string, Array<{ error: TLocalizedValidationError; problem: SchemaProblem }>>();
  const unknownUnder = new Set<string>();
  for (const error of Value.Errors(schema, document.value)) {
    if (error.keyword === 'additionalProperties') unknownUnder.add(error.instancePath.slice(1));
    for (const problem of described(error)) {
      const path = pointerOf(problem.path);
      byPath.set(path, [...(byPath.get(path) ?? []), { error, problem }]);
    }
  }
  const paths = [...byPath.keys()];
  const problems: DefinitionError[] = [];
  for (const [path, found] of byPath) {
    const deeper = paths.some((other) => other !== path && (path === '' || other.startsWith(`${path}/`)));
    const kept = found.filter(
      ({ error }) =>
        !(deeper && UNION_KEYWORDS.has(error.keyword)) &&
        !(error.keyword === 'required' && unknownUnder.has(path)),
    );
    const best = mostUseful(kept.map((k) => k.error));
    if (!best) continue;
    const { path: field, atKey, reason } = kept.find((k) => k.error === best)!.problem;
    problems.push(new DefinitionError(document.locate(field, atKey), field.join('.'), reason));
  }
  problems.sort((a, b) => a.location.line - b.location.line || a.location.column - b.location.column);
  const [first, ...rest] = problems;
  if (first) throw new DocumentErrors([first, ...rest]);
  return document.value as T;
}

/** Throws a problem at a field named dotted (`spec.window`) in a document that passed its schema. */
export type Fail = (field: string, reason: string) => never;

export function failer(document: YamlDocument): Fail {
  return (field, reason) => {
    throw new DefinitionError(document.locate(field.split('.')), field, reason);
  };
}
