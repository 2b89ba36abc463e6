import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { checkPolicies, type GatePolicy, readGatePolicy } from '../gate/policy.js';
import { readNativeSlo } from './native.js';
import type { SloDefinition } from './slo.js';
import { DefinitionError, parseYamlFile } from './yamlSource.js';

export interface LoadedDefinitions {
  definitions: SloDefinition[];
  /** `kind: GatePolicy` documents (src/gate/policy.ts), checked against the SLOs. */
  policies: GatePolicy[];
  errors: DefinitionError[];
  files: string[];
}

/** YAML files under the given paths (a folder is read recursively, in name order). */
export function definitionFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const visit = (path: string): void => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        const child = join(path, entry);
        if (statSync(child).isDirectory() || ['.yaml', '.yml'].includes(extname(entry))) visit(child);
      }
    } else files.push(path);
  };
  for (const path of paths) visit(path);
  return files;
}

/**
 * Reads every document of every file and keeps what is valid; each problem is reported with file:line:column.
 * A name defined twice is an error at its second place.
 */
export function loadDefinitions(paths: readonly string[]): LoadedDefinitions {
  const files = definitionFiles(paths);
  const definitions: SloDefinition[] = [];
  const errors: DefinitionError[] = [];
  const seen = new Map<string, SloDefinition>();
  const policies: GatePolicy[] = [];
  for (const file of files) {
    const { documents, errors: syntaxErrors } = parseYamlFile(readFileSync(file, 'utf8'), file);
    errors.push(...syntaxErrors);
    for (const document of documents) {
      try {
        const apiVersion = (document.value as { apiVersion?: unknown } | null)?.apiVersion;
        if (apiVersion !== 'sloguard/v1') {
          throw new DefinitionError(
            document.locate(['apiVersion']),
            'apiVersion',
            `unsupported apiVersion ${JSON.stringify(apiVersion ?? null)}; expected "sloguard/v1"`,
          );
        }
        if ((document.value as { kind?: unknown }).kind === 'GatePolicy') {
          policies.push(readGatePolicy(document));
          continue;
        }
        const definition = readNativeSlo(document);
        const previous = seen.get(definition.name);
        if (previous) {
          throw new DefinitionError(
            document.locate(['metadata', 'name']),
            'metadata.name',
            `duplicate SLO name "${definition.name}" (first defined at ${previous.location.file}:${previous.location.line})`,
          );
        }
        seen.set(definition.name, definition);
        definitions.push(definition);
      } catch (error) {
        if (error instanceof DefinitionError) errors.push(error);
        else throw error;
      }
    }
  }
  const checked = checkPolicies(policies, definitions);
  return { definitions, policies: checked.policies, errors: [...errors, ...checked.errors], files };
}
