import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Correction } from '../model/correction.js';
import type { SloDefinition } from '../model/slo.js';
import { readCorrection } from './corrections.js';
import { type LocatedDataSource, readNativeDataSource } from './dataSources.js';
import { type GatePolicy, readGatePolicy } from './gatePolicy.js';
import { type PendingComposite, readNativeComposite, readNativeSlo } from './native.js';
import type { OpenSloReader } from './openslo/load.js';
import { DefinitionError, problemsOf, yamlDocuments } from './yamlSource.js';

/** What one file's native documents read as, in document order, and its problems (syntax ones first). */
export interface FileRead {
  native: SloDefinition[];
  composites: PendingComposite[];
  policies: GatePolicy[];
  corrections: Correction[];
  dataSources: LocatedDataSource[];
  errors: DefinitionError[];
}

/**
 * Each definition file's read, kept by path and a hash of its bytes, so a reload parses only the files that
 * changed: parsing is most of a load's CPU (about 1.4 s at 10,000 SLOs). What a native document reads as
 * depends on its bytes alone, and every location in it names the path it was read at, so a file that moved is
 * read again. A file with OpenSLO documents is always read again: its references resolve across files in a
 * reader of the whole set, which would have to keep each document's parse tree.
 */
export class DefinitionFileCache {
  private files = new Map<string, { hash: string; read: FileRead }>();
  /** The files the last `readAll` parsed (the rest were its cache's). */
  parsed: readonly string[] = [];

  /**
   * Every file's read, in order; OpenSLO documents go to `openslo` as they are met. The cache keeps these
   * files only: a file no longer listed drops out.
   */
  readAll(files: readonly string[], openslo: OpenSloReader): FileRead[] {
    const kept = new Map<string, { hash: string; read: FileRead }>();
    const parsed: string[] = [];
    const reads = files.map((file) => {
      const bytes = readFileSync(file);
      const hash = createHash('sha256').update(bytes).digest('base64');
      const cached = this.files.get(file);
      if (cached?.hash === hash) {
        kept.set(file, cached);
        return cached.read;
      }
      parsed.push(file);
      const { read, readsOpenSlo } = readFile(bytes.toString('utf8'), file, openslo);
      if (!readsOpenSlo) kept.set(file, { hash, read });
      return read;
    });
    this.files = kept;
    this.parsed = parsed;
    return reads;
  }
}

/** Reads one file's documents, one at a time; `readsOpenSlo` when any was an OpenSLO one. */
function readFile(
  text: string,
  file: string,
  openslo: OpenSloReader,
): { read: FileRead; readsOpenSlo: boolean } {
  const read: FileRead = {
    native: [],
    composites: [],
    policies: [],
    corrections: [],
    dataSources: [],
    errors: [],
  };
  let readsOpenSlo = false;
  // A file's syntax errors come before its documents' problems, as when it was parsed whole.
  const documentErrors: DefinitionError[] = [];
  for (const document of yamlDocuments(text, file)) {
    if (Array.isArray(document)) {
      read.errors.push(...document);
      continue;
    }
    try {
      const apiVersion = (document.value as { apiVersion?: unknown } | null)?.apiVersion;
      if (apiVersion === 'openslo/v1' || Array.isArray(document.value)) {
        readsOpenSlo = true;
        documentErrors.push(...openslo.add(document));
        continue;
      }
      if (apiVersion !== 'sloguard/v1') {
        throw new DefinitionError(
          document.locate(['apiVersion']),
          'apiVersion',
          `unsupported apiVersion ${JSON.stringify(apiVersion ?? null)}; expected "sloguard/v1" or "openslo/v1"`,
        );
      }
      const kind = (document.value as { kind?: unknown }).kind;
      if (kind === 'GatePolicy') read.policies.push(readGatePolicy(document));
      else if (kind === 'Correction') read.corrections.push(readCorrection(document));
      else if (kind === 'DataSource') read.dataSources.push(readNativeDataSource(document));
      else if (kind === 'CompositeSLO') read.composites.push(readNativeComposite(document));
      else read.native.push(readNativeSlo(document));
    } catch (error) {
      if (error instanceof DefinitionError) documentErrors.push(...problemsOf(error));
      else throw error;
    }
  }
  read.errors.push(...documentErrors);
  return { read, readsOpenSlo };
}
