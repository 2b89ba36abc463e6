import {
  Composer,
  type Document,
  isMap,
  isPair,
  isScalar,
  LineCounter,
  Parser,
  parseAllDocuments,
  visit,
} from 'yaml';
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

/** YAML 1.2 core schema, no custom tags: a file cannot build objects. */
const PARSE_OPTIONS = { customTags: [], uniqueKeys: true };

/**
 * The documents of a file one at a time, each as a YamlDocument or as the errors that refuse it (syntax,
 * alias expansion). Each document's parse tree is garbage once the caller is done with it: parsed all at
 * once, 10,000 SLOs in one file held about 100 MB of trees until the last was read.
 */
export function* yamlDocuments(text: string, file: string): Generator<YamlDocument | DefinitionError[]> {
  const lineCounter = new LineCounter();
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  let worded: Document[] | undefined;
  let index = -1;
  const composed = new Composer(PARSE_OPTIONS).compose(new Parser(lineCounter.addNewLine).parse(text));
  for (const document of composed) {
    index += 1;
    if (document.errors.length > 0) {
      // The yaml library words its errors with the line and a pointer to it only when it parses a whole
      // file: done once, for a file with errors, whose documents come in the same order.
      worded ??= parseAllDocuments(text, { ...PARSE_OPTIONS, lineCounter: new LineCounter() }) as Document[];
      yield worded[index]!.errors.map((error) => new DefinitionError(at(error.pos[0]), '', error.message));
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
      yield [
        new DefinitionError(
          at(firstAliasOffset(document)),
          '',
          `${error.message}: more than ${MAX_ALIAS_COUNT} alias expansions`,
        ),
      ];
      continue;
    }
    yield { value, file, locate: (path, atKey = false) => at(offsetOf(document, path, atKey)) };
  }
}

/** Every document of a file and every error, read at once (yamlDocuments reads them one at a time). */
export function parseYamlFile(
  text: string,
  file: string,
): { documents: YamlDocument[]; errors: DefinitionError[] } {
  const documents: YamlDocument[] = [];
  const errors: DefinitionError[] = [];
  for (const read of yamlDocuments(text, file)) {
    if (Array.isArray(read)) errors.push(...read);
    else documents.push(read);
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
