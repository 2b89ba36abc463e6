import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Correction } from '../model/correction.js';
import type { PrometheusDataSource } from '../model/promql.js';
import type { SloDefinition } from '../model/slo.js';
import { linkDataSources, refuseUnsupportedPromQl } from './dataSources.js';
import { DefinitionFileCache } from './fileCache.js';
import { checkPolicies, type GatePolicy, withServiceOwnership } from './gatePolicy.js';
import { resolveComposite } from './native.js';
import { metricSourceRefs, OpenSloReader } from './openslo/load.js';
import type { OpenSloObjects } from './openslo/objects.js';
import { openSloDataSources } from './openslo/promql.js';
import { DefinitionError } from './yamlSource.js';

export interface LoadedDefinitions {
  definitions: SloDefinition[];
  /** `kind: GatePolicy` documents (src/gate/policy.ts), checked against the SLOs. */
  policies: GatePolicy[];
  /** `kind: Correction` documents: planned downtime and after-the-fact fixes (src/definitions/corrections.ts). */
  corrections: Correction[];
  /** Every OpenSLO object read, references resolved (alert policies, conditions and targets for alerting). */
  openslo: OpenSloObjects;
  /** Every DataSource by name (native and OpenSLO), for SLOs and for the engine native data lives in. */
  dataSources: ReadonlyMap<string, PrometheusDataSource>;
  errors: DefinitionError[];
  /** Valid but noteworthy: OpenSLO SLOs reading other systems' metrics, which sloguard does not evaluate. */
  warnings: DefinitionError[];
  files: string[];
}

/**
 * The largest definition file read: 10,000 SLOs in one file are about 3 MiB. A larger file (a log or a dump
 * saved as `.yaml`) would be read and parsed whole on the event loop, at start or at every reload.
 */
export const MAX_DEFINITION_FILE_BYTES = 16 * 1024 * 1024;

/**
 * YAML files under the given paths (a folder is read recursively, in name order). Anything that is neither a
 * regular file nor a folder (a FIFO, a socket, a device) is skipped with a warning and never opened: reading a
 * FIFO would wait for a writer forever. A given path that does not exist, or a file larger than
 * MAX_DEFINITION_FILE_BYTES, is a one-line error at that path (never read) rather than a raw ENOENT or OOM.
 */
export function definitionFiles(paths: readonly string[]): {
  files: string[];
  skipped: DefinitionError[];
  unread: DefinitionError[];
} {
  const files: string[] = [];
  const skipped: DefinitionError[] = [];
  const unread: DefinitionError[] = [];
  const at = (file: string) => ({ file, line: 1, column: 1 });
  const visit = (path: string): void => {
    const stats = statSync(path);
    if (stats.isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        // Hidden entries are not definitions: a Kubernetes ConfigMap mount keeps every file a second and third
        // time under `..data/` and `..<timestamp>/`, editors keep swap files.
        if (entry.startsWith('.')) continue;
        const child = join(path, entry);
        if (statSync(child).isDirectory() || ['.yaml', '.yml'].includes(extname(entry))) visit(child);
      }
    } else if (!stats.isFile()) {
      skipped.push(new DefinitionError(at(path), '', 'not a regular file: skipped, never opened'));
    } else if (stats.size > MAX_DEFINITION_FILE_BYTES) {
      unread.push(
        new DefinitionError(
          at(path),
          '',
          `${stats.size} bytes, larger than the limit of ${MAX_DEFINITION_FILE_BYTES}: not read`,
        ),
      );
    } else files.push(path);
  };
  for (const path of paths) {
    if (existsSync(path)) visit(path);
    else unread.push(new DefinitionError(at(path), '', 'no such file or folder'));
  }
  return { files, skipped, unread };
}

/**
 * Reads every document of every file and keeps what is valid; each problem is reported with file:line:column.
 * Native (`sloguard/v1`) and OpenSLO (`openslo/v1`, single objects or lists) documents may be mixed; OpenSLO
 * references and native composites are resolved across all files. A name defined twice is an error at its
 * second place. A file whose bytes `cache` has read before at the same path is not parsed again.
 */
export function loadDefinitions(
  paths: readonly string[],
  cache: DefinitionFileCache = new DefinitionFileCache(),
): LoadedDefinitions {
  const { files, skipped, unread } = definitionFiles(paths);
  const openslo = new OpenSloReader();
  const errors: DefinitionError[] = [...unread];
  const reads = cache.readAll(files, openslo);
  const native = reads.flatMap((read) => read.native);
  const composites = reads.flatMap((read) => read.composites);
  const policies = reads.flatMap((read) => read.policies);
  const corrections = reads.flatMap((read) => read.corrections);
  const dataSources = reads.flatMap((read) => read.dataSources);
  for (const read of reads) errors.push(...read.errors);
  const fromOpenSlo = openslo.finish();
  errors.push(...fromOpenSlo.errors);
  // A DataSource sloguard cannot connect to is still valid OpenSLO (connectionDetails is opaque there): an
  // error when a metric source names it, else a warning.
  const refs = metricSourceRefs(fromOpenSlo.objects);
  const used = openSloDataSources(fromOpenSlo.objects.dataSources.filter((d) => refs.has(d.name)));
  const unused = openSloDataSources(fromOpenSlo.objects.dataSources.filter((d) => !refs.has(d.name)));
  errors.push(...used.errors);
  const openSloSources = { dataSources: [...used.dataSources, ...unused.dataSources] };
  const located = [...dataSources, ...openSloSources.dataSources];
  const linked = linkDataSources([...native, ...fromOpenSlo.definitions], located, errors);
  const definitions = uniqueNames(linked, errors);
  const byName = new Map(definitions.map((d) => [d.name, d]));
  const resolved: SloDefinition[] = [];
  for (const pending of composites) {
    try {
      resolved.push(resolveComposite(pending, byName));
    } catch (error) {
      if (error instanceof DefinitionError) errors.push(error);
      else throw error;
    }
  }
  const named = refuseUnsupportedPromQl(uniqueNames([...definitions, ...resolved], errors), errors);
  const checked = checkPolicies(policies, named);
  const all = withServiceOwnership(named, checked.policies);
  return {
    definitions: all,
    policies: checked.policies,
    corrections: uniqueCorrections(corrections, errors).filter((c) => namesSlos(c, all, errors)),
    openslo: fromOpenSlo.objects,
    // The first of each name: a second is an error (linkDataSources).
    dataSources: new Map([...located].reverse().map(({ dataSource }) => [dataSource.name, dataSource])),
    errors: [...errors, ...checked.errors],
    warnings: [...skipped, ...fromOpenSlo.warnings, ...unused.errors],
    files,
  };
}

/** Keeps the first SLO of each name; later ones are errors pointing at both places. */
function uniqueNames(definitions: readonly SloDefinition[], errors: DefinitionError[]): SloDefinition[] {
  const seen = new Map<string, SloDefinition>();
  for (const definition of definitions) {
    const previous = seen.get(definition.name);
    if (!previous) {
      seen.set(definition.name, definition);
      continue;
    }
    if (previous === definition) continue;
    errors.push(
      new DefinitionError(
        definition.nameLocation ?? definition.location,
        'metadata.name',
        `duplicate SLO name "${definition.name}" (first defined at ${previous.location.file}:${previous.location.line})`,
        'references',
      ),
    );
  }
  return [...seen.values()];
}

/** Correction names are their ids in the API: the second of a name is an error. */
function uniqueCorrections(corrections: readonly Correction[], errors: DefinitionError[]): Correction[] {
  const seen = new Map<string, Correction>();
  for (const correction of corrections) {
    const previous = seen.get(correction.id);
    if (!previous) seen.set(correction.id, correction);
    else
      errors.push(
        new DefinitionError(
          correction.location!,
          'metadata.name',
          `duplicate Correction name "${correction.id}" (first defined at ${previous.location?.file}:${previous.location?.line})`,
          'references',
        ),
      );
  }
  return [...seen.values()];
}

/** A correction naming an SLO that does not exist is an error at the correction (a typo would correct nothing). */
function namesSlos(correction: Correction, definitions: readonly SloDefinition[], errors: DefinitionError[]) {
  const missing = (correction.appliesTo.slos ?? []).filter(
    (name) => !definitions.some((d) => d.name === name),
  );
  if (missing.length === 0) return true;
  errors.push(
    new DefinitionError(
      correction.slosLocation!,
      'spec.appliesTo.slos',
      `no SLO named ${missing.map((n) => `"${n}"`).join(', ')}`,
      'references',
    ),
  );
  return false;
}
