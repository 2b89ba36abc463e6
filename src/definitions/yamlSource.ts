import { type Document, isMap, isPair, isScalar, LineCounter, parseAllDocuments, visit } from 'yaml';
import type { SourceLocation } from '../model/location.js';

/**
 * `document`: a rule about one object (what the reference validators check). `references`: a rule across
 * objects and files that they do not check (dangling references, duplicate names).
 */
export type DefinitionCheck = 'document' | 'references';

export class DefinitionError extends Error {
  constructor(
    readonly location: SourceLocation,
    readonly field: string,
    readonly reason: string,
    readonly check: DefinitionCheck = 'document',
  ) {
    super(`${location.file}:${location.line}:${location.column}: ${field ? `${field}: ` : ''}${reason}`);
    this.name = 'DefinitionError';
  }
}

/** Every problem of one document, thrown as its first (callers that report one still can) and listed whole. */
export class DocumentErrors extends DefinitionError {
  constructor(readonly errors: readonly [DefinitionError, ...DefinitionError[]]) {
    const [first] = errors;
    super(first.location, first.field, first.reason, first.check);
  }
}

/** The problems an error stands for: all of a document's, or itself. */
export const problemsOf = (error: DefinitionError): readonly DefinitionError[] =>
  error instanceof DocumentErrors ? error.errors : [error];

/** One YAML document with the means to point at any of its fields. */
export interface YamlDocument {
  value: unknown;
  file: string;
  /** Where a field is (its key when `atKey`), falling back to the nearest parent that exists. */
  locate(path: readonly (string | number)[], atKey?: boolean): SourceLocation;
}

/**
 * Parses every document of a file. No custom tags are resolved (YAML 1.2 core schema), so a file cannot
 * build objects. Syntax errors come back as DefinitionErrors.
 */
export function parseYamlFile(
  text: string,
  file: string,
): { documents: YamlDocument[]; errors: DefinitionError[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, customTags: [], uniqueKeys: true });
  const errors: DefinitionError[] = [];
  const documents: YamlDocument[] = [];
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  for (const document of Array.isArray(parsed) ? parsed : [parsed]) {
    if (document.errors.length > 0) {
      for (const error of document.errors)
        errors.push(new DefinitionError(at(error.pos[0]), '', error.message));
      continue;
    }
    if (document.contents === null) continue;
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      // The yaml library refuses alias expansion past the count (a "billion laughs" document): this
      // document is refused at its first alias, the other documents and files are still read.
      if (!(error instanceof ReferenceError)) throw error;
      errors.push(
        new DefinitionError(
          at(firstAliasOffset(document)),
          '',
          `${error.message}: more than ${MAX_ALIAS_COUNT} alias expansions`,
        ),
      );
      continue;
    }
    documents.push({
      value,
      file,
      locate: (path, atKey = false) => at(offsetOf(document, path, atKey)),
    });
  }
  return { documents, errors };
}

/** Aliases a document may expand; real definitions use a handful. */
const MAX_ALIAS_COUNT = 100;

function firstAliasOffset(document: Document): number {
  let offset = document.contents?.range?.[0] ?? 0;
  visit(document, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? offset;
      return visit.BREAK;
    },
  });
  return offset;
}

function offsetOf(document: Document, path: readonly (string | number)[], atKey: boolean): number {
  for (let depth = path.length; depth > 0; depth--) {
    const parentPath = path.slice(0, depth - 1);
    const key = path[depth - 1];
    const parent = parentPath.length === 0 ? document.contents : document.getIn(parentPath, true);
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === key);
      const node = pair && (atKey || depth < path.length ? pair.key : (pair.value ?? pair.key));
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) return range[0];
    } else {
      const node = document.getIn([...parentPath, key], true) as
        | { range?: [number, number, number] }
        | undefined;
      if (node?.range) return node.range[0];
    }
  }
  return document.contents?.range?.[0] ?? 0;
}
