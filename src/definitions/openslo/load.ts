import { Value } from 'typebox/value';
import type { NotificationRoute } from '../../config/notifications.js';
import { describe, mostUseful } from '../../config/schemaErrors.js';
import type { SloDefinition } from '../../model/slo.js';
import { DefinitionError, type YamlDocument } from '../yamlSource.js';
import type {
  IndicatorSource,
  InlinedObject,
  ObjectOf,
  OpenSloObject,
  OpenSloObjects,
  Path,
} from './objects.js';
import { alertPolicyRules, fieldName, type RuleViolation, sliRules, sloRules } from './rules.js';
import { OPENSLO_KINDS, type OpenSloKind, SCHEMAS } from './schema.js';
import { toSloDefinitions } from './toDefinition.js';

function scoped(document: YamlDocument, prefix: Path, value: unknown): YamlDocument {
  return {
    value,
    file: document.file,
    locate: (path, atKey) => document.locate([...prefix, ...path], atKey),
  };
}

function errorAt(
  document: YamlDocument,
  path: Path,
  reason: string,
  check: 'document' | 'references' = 'document',
) {
  return new DefinitionError(document.locate(path), fieldName(path), reason, check);
}

/**
 * Reads `apiVersion: openslo/v1` documents (a single object or a list of them, several per file), checks each
 * object as the reference validator does, then resolves references across every file read.
 */
export class OpenSloReader {
  private readonly objects: OpenSloObject[] = [];
  private readonly lints: DefinitionError[] = [];

  /** Decodes and validates one YAML document; returns its problems. */
  add(document: YamlDocument): DefinitionError[] {
    const items = Array.isArray(document.value)
      ? document.value.map((value, index) => scoped(document, [index], value))
      : [document];
    const errors: DefinitionError[] = [];
    for (const item of items) {
      const decoded = this.decode(item);
      if (Array.isArray(decoded)) errors.push(...decoded);
      else this.objects.push(decoded);
    }
    return errors;
  }

  /** The object, or every rule it breaks (only the first schema error: the rest usually follow from it). */
  private decode(document: YamlDocument): OpenSloObject | DefinitionError[] {
    const value = document.value as {
      apiVersion?: unknown;
      kind?: unknown;
      metadata?: { name?: string };
    } | null;
    if (value?.apiVersion !== 'openslo/v1') {
      return [
        errorAt(
          document,
          ['apiVersion'],
          `unsupported apiVersion ${JSON.stringify(value?.apiVersion ?? null)}`,
        ),
      ];
    }
    const kind = value.kind as OpenSloKind;
    if (!OPENSLO_KINDS.includes(kind)) {
      return [
        errorAt(
          document,
          ['kind'],
          `unsupported kind ${JSON.stringify(kind ?? null)}; expected one of ${OPENSLO_KINDS.join(', ')}`,
        ),
      ];
    }
    const who = `${kind} "${value.metadata?.name ?? ''}"`;
    const schemaError = mostUseful(Value.Errors(SCHEMAS[kind], value));
    if (schemaError) {
      const { path, atKey, reason } = describe(schemaError);
      const parts = path.map((part) => (/^\d+$/.test(part) ? Number(part) : part));
      return [new DefinitionError(document.locate(parts, atKey), fieldName(parts), `${reason} (${who})`)];
    }
    const violations = this.rulesOf(kind, value).map((v) => ({
      ...v,
      error: new DefinitionError(document.locate(v.path, v.atKey), fieldName(v.path), `${v.reason} (${who})`),
    }));
    this.lints.push(...violations.filter((v) => v.warning).map((v) => v.error));
    const errors = violations.filter((v) => !v.warning).map((v) => v.error);
    if (errors.length > 0) return errors;
    return {
      kind,
      name: value.metadata!.name!,
      value: value as never,
      document,
      location: document.locate([]),
    };
  }

  private rulesOf(kind: OpenSloKind, value: unknown): RuleViolation[] {
    if (kind === 'SLO') return sloRules((value as ObjectOf<'SLO'>).spec);
    if (kind === 'SLI') return sliRules((value as ObjectOf<'SLI'>).spec, ['spec']);
    if (kind === 'AlertPolicy') return alertPolicyRules((value as ObjectOf<'AlertPolicy'>).spec, ['spec']);
    return [];
  }

  /**
   * Resolves references across all files and maps SLOs that read sloguard's own data to SloDefinitions.
   * Dangling references and names defined twice are errors (the reference validator misses both).
   */
  finish(): {
    objects: OpenSloObjects;
    definitions: SloDefinition[];
    errors: DefinitionError[];
    warnings: DefinitionError[];
  } {
    const errors: DefinitionError[] = [];
    const byKind = new Map<OpenSloKind, Map<string, OpenSloObject>>();
    for (const object of this.objects) {
      const names = byKind.get(object.kind) ?? new Map<string, OpenSloObject>();
      byKind.set(object.kind, names);
      const previous = names.get(object.name);
      if (previous) {
        errors.push(
          errorAt(
            object.document,
            ['metadata', 'name'],
            `duplicate ${object.kind} name "${object.name}" (first defined at ${previous.location.file}:${previous.location.line})`,
            'references',
          ),
        );
        continue;
      }
      names.set(object.name, object);
    }
    const all = <K extends OpenSloKind>(kind: K) =>
      [...(byKind.get(kind)?.values() ?? [])] as OpenSloObject<K>[];
    const resolver = new References(byKind, errors);
    const alertPolicies = all('AlertPolicy').map((policy) => ({
      ...policy,
      inlined: resolver.policy(policy.value, policy.document, []),
    }));
    const slos = all('SLO').map((slo) => ({ ...slo, inlined: resolver.slo(slo) }));
    const warnings = [...this.lints];
    const definitions: SloDefinition[] = [];
    for (const slo of slos) {
      if (resolver.failed(slo)) continue;
      const mapped = toSloDefinitions(slo, resolver.indicatorSources(slo));
      definitions.push(...mapped.definitions);
      errors.push(...mapped.errors);
      warnings.push(...mapped.warnings);
    }
    const objects: OpenSloObjects = {
      slos,
      slis: all('SLI'),
      dataSources: all('DataSource'),
      services: all('Service'),
      alertPolicies,
      alertConditions: all('AlertCondition'),
      alertNotificationTargets: all('AlertNotificationTarget'),
      notificationRoutes: resolver.routes(),
    };
    return { objects, definitions, errors, warnings };
  }
}

/** Every DataSource name a `metricSourceRef` of an SLI or SLO names. */
export function metricSourceRefs(objects: OpenSloObjects): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === 'metricSourceRef' && typeof child === 'string') names.add(child);
        else visit(child);
      }
    }
  };
  visit([...objects.slis.map((sli) => sli.value), ...objects.slos.map((slo) => slo.inlined)]);
  return names;
}

/** Resolves references by kind and name, recording each one that points nowhere. */
class References {
  private readonly broken = new Set<string>();
  /** The notification target names each SLO's alert policies name, in order of appearance. */
  private readonly targets = new Map<string, Set<string>>();

  constructor(
    private readonly byKind: Map<OpenSloKind, Map<string, OpenSloObject>>,
    private readonly errors: DefinitionError[],
  ) {}

  private find<K extends OpenSloKind>(
    kind: K,
    name: string,
    document: YamlDocument,
    path: Path,
    owner?: OpenSloObject,
  ) {
    const found = this.byKind.get(kind)?.get(name) as OpenSloObject<K> | undefined;
    if (!found) {
      this.errors.push(errorAt(document, path, `no ${kind} named "${name}" in any file read`, 'references'));
      if (owner) this.broken.add(`${owner.kind}/${owner.name}`);
    }
    return found;
  }

  /** SLOs whose alert policies name targets, routed to those targets (read after every `slo`). */
  routes(): NotificationRoute[] {
    return [...this.targets]
      .filter(([, names]) => names.size > 0)
      .map(([slo, names]) => ({ slo, targets: [...names] }));
  }

  failed(object: OpenSloObject): boolean {
    return this.broken.has(`${object.kind}/${object.name}`);
  }

  private inline(kind: OpenSloKind, object: OpenSloObject | undefined, fallback: string): InlinedObject {
    if (!object) return { kind, metadata: { name: fallback }, spec: {} };
    const value = object.value as { metadata: InlinedObject['metadata']; spec?: unknown };
    return { kind, metadata: value.metadata, spec: value.spec ?? {} };
  }

  policy(
    value: { spec: ObjectOf<'AlertPolicy'>['spec'] },
    document: YamlDocument,
    at: Path,
    owner?: OpenSloObject,
  ): InlinedObject {
    const spec = value.spec;
    /** Each item that is a reference (`field`) becomes the object it names, inlined. */
    const resolve = (items: Array<Record<string, unknown>>, list: string, field: string, kind: OpenSloKind) =>
      items.map((item, index) => {
        const name = item[field] as string | undefined;
        if (name === undefined) return item;
        const found = this.find(kind, name, document, [...at, 'spec', list, index, field], owner);
        return this.inline(kind, found, name);
      });
    const conditions = resolve(spec.conditions, 'conditions', 'conditionRef', 'AlertCondition');
    const notificationTargets = resolve(
      spec.notificationTargets,
      'notificationTargets',
      'targetRef',
      'AlertNotificationTarget',
    );
    if (owner?.kind === 'SLO') {
      const targets = this.targets.get(owner.name) ?? new Set<string>();
      for (const target of notificationTargets as Array<{ metadata?: { name?: string } }>)
        if (target.metadata?.name !== undefined) targets.add(target.metadata.name);
      this.targets.set(owner.name, targets);
    }
    const metadata = (value as { metadata?: InlinedObject['metadata'] }).metadata ?? { name: '' };
    return { kind: 'AlertPolicy', metadata, spec: { ...spec, conditions, notificationTargets } };
  }

  /** The SLO as go-sdk's inliner writes it. */
  slo(slo: OpenSloObject<'SLO'>): ObjectOf<'SLO'> {
    const { indicatorRef, alertPolicies, ...spec } = slo.value.spec;
    const indicator =
      indicatorRef === undefined
        ? spec.indicator
        : this.indicatorOf(indicatorRef, slo, ['spec', 'indicatorRef']);
    const objectives = spec.objectives.map((objective, index) => {
      if (objective.indicatorRef === undefined) return objective;
      const { indicatorRef: ref, ...rest } = objective;
      return {
        ...rest,
        indicator: this.indicatorOf(ref, slo, ['spec', 'objectives', index, 'indicatorRef']),
      };
    });
    const policies = (alertPolicies ?? []).map((policy, index) => {
      const at: Path = ['spec', 'alertPolicies', index];
      if (policy.alertPolicyRef === undefined) return this.policy(policy as never, slo.document, at, slo);
      const found = this.find(
        'AlertPolicy',
        policy.alertPolicyRef as string,
        slo.document,
        [...at, 'alertPolicyRef'],
        slo,
      );
      return found
        ? this.policy(found.value, found.document, [], slo)
        : this.inline('AlertPolicy', undefined, policy.alertPolicyRef as string);
    });
    return {
      ...slo.value,
      spec: {
        ...spec,
        ...(indicator && { indicator }),
        objectives,
        ...(policies.length > 0 && { alertPolicies: policies as never }),
      },
    };
  }

  private indicatorOf(name: string, slo: OpenSloObject<'SLO'>, path: Path) {
    const sli = this.find('SLI', name, slo.document, path, slo);
    return sli ? { metadata: sli.value.metadata, spec: sli.value.spec } : undefined;
  }

  /** For each objective (or the SLO itself when not composite): where its indicator is written. */
  indicatorSources(slo: OpenSloObject<'SLO'>): IndicatorSource[] {
    const spec = slo.value.spec;
    const source = (
      inline: { metadata: { name: string }; spec: ObjectOf<'SLI'>['spec'] } | undefined,
      ref: string | undefined,
      path: Path,
    ): IndicatorSource => {
      if (inline)
        return {
          name: inline.metadata.name,
          spec: inline.spec,
          document: slo.document,
          path: [...path, 'indicator', 'spec'],
        };
      const sli = this.byKind.get('SLI')!.get(ref!) as OpenSloObject<'SLI'>;
      return { name: sli.name, spec: sli.value.spec, document: sli.document, path: ['spec'] };
    };
    const composite = spec.objectives.some((o) => o.indicator !== undefined || o.indicatorRef !== undefined);
    if (!composite) return [source(spec.indicator, spec.indicatorRef, ['spec'])];
    return spec.objectives.map((o, index) =>
      source(o.indicator, o.indicatorRef, ['spec', 'objectives', index]),
    );
  }
}
