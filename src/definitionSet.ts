import { DefinitionFileCache } from './definitions/fileCache.js';
import { loadDefinitions } from './definitions/load.js';
import type { OpenSloObjects } from './definitions/openslo/objects.js';
import { SloRegistry } from './definitions/registry.js';
import type { DefinitionError } from './definitions/yamlSource.js';
import { GatePolicies } from './gate/policy.js';
import type { Correction } from './model/correction.js';
import type { PrometheusDataSource } from './model/promql.js';

export class InvalidDefinitionsError extends Error {
  constructor(readonly errors: DefinitionError[]) {
    super(`invalid SLO definitions:\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
    this.name = 'InvalidDefinitionsError';
  }
}

/** What the definitions folder holds, read and checked as one set: a reload replaces it whole or not at all. */
export interface DefinitionSet {
  readonly registry: SloRegistry;
  readonly policies: GatePolicies;
  /** The OpenSLO objects read, references resolved: alerting routes by their AlertPolicies. */
  readonly openslo: OpenSloObjects;
  /** `kind: Correction` documents. */
  readonly corrections: Correction[];
  /** DataSources by name: the engine of `data.engine` is looked up here. */
  readonly dataSources: ReadonlyMap<string, PrometheusDataSource>;
}

/** A set as read, with what the caller is to log: files skipped (not regular files) while the rest loaded. */
export interface LoadedDefinitions extends DefinitionSet {
  readonly warnings: string[];
}

/**
 * The files the service read at start and at its last reload: a reload parses only those that changed. One
 * per process, as the service reads one folder; reading another folder only replaces what it keeps.
 */
const definitionFiles = new DefinitionFileCache();

/**
 * Reads the definitions folder; throws InvalidDefinitionsError (every problem, with file:line:column). Files
 * unchanged since the last call are not parsed again.
 */
export function loadDefinitionSet(path: string, cache = definitionFiles): LoadedDefinitions {
  const loaded = loadDefinitions([path], cache);
  if (loaded.errors.length > 0) throw new InvalidDefinitionsError(loaded.errors);
  return {
    warnings: loaded.warnings.map((warning) => warning.message),
    registry: new SloRegistry(loaded.definitions),
    policies: new GatePolicies(loaded.policies),
    openslo: loaded.openslo,
    corrections: loaded.corrections,
    dataSources: loaded.dataSources,
  };
}

/**
 * The definition set in force: every part reads it here at use (never keeps what it read), so a reload that
 * swaps the set is seen by all of them at once.
 */
export class CurrentDefinitions implements DefinitionSet {
  constructor(private set: DefinitionSet) {}

  get registry(): SloRegistry {
    return this.set.registry;
  }

  get policies(): GatePolicies {
    return this.set.policies;
  }

  get openslo(): OpenSloObjects {
    return this.set.openslo;
  }

  get corrections(): Correction[] {
    return this.set.corrections;
  }

  get dataSources(): ReadonlyMap<string, PrometheusDataSource> {
    return this.set.dataSources;
  }

  replace(set: DefinitionSet): void {
    this.set = set;
  }
}
