import type { Static } from 'typebox';
import type { NotificationRoute } from '../../config/notifications.js';
import type { SourceLocation } from '../../model/location.js';
import type { YamlDocument } from '../yamlSource.js';
import type { OpenSloKind, SCHEMAS } from './schema.js';

/**
 * What the OpenSLO reader hands on: decoded objects with their places, references resolved. Types only, so
 * the reader, the mapping to SloDefinitions and the PromQL mapping share them without importing each other.
 */

export type Path = Array<string | number>;
export type ObjectOf<K extends OpenSloKind> = Static<(typeof SCHEMAS)[K]>;

/** One decoded, valid OpenSLO object and the place it came from. */
export interface OpenSloObject<K extends OpenSloKind = OpenSloKind> {
  kind: K;
  name: string;
  value: ObjectOf<K>;
  /** The object's own document: paths are relative to the object, even inside a list. */
  document: YamlDocument;
  location: SourceLocation;
}

/** An inlined object as go-sdk's reference inliner writes it: kind, metadata, spec (no apiVersion). */
export interface InlinedObject {
  kind: string;
  metadata: ObjectOf<'SLO'>['metadata'];
  spec: unknown;
}

/** Everything the OpenSLO files held, references resolved: what the alerts and gate parts may consume. */
export interface OpenSloObjects {
  /** SLOs with `indicatorRef`, `alertPolicyRef`, `conditionRef` and `targetRef` replaced by the objects. */
  slos: Array<OpenSloObject<'SLO'> & { inlined: ObjectOf<'SLO'> }>;
  slis: OpenSloObject<'SLI'>[];
  dataSources: OpenSloObject<'DataSource'>[];
  services: OpenSloObject<'Service'>[];
  /** Alert policies with their conditions and notification targets inlined. */
  alertPolicies: Array<OpenSloObject<'AlertPolicy'> & { inlined: InlinedObject }>;
  alertConditions: OpenSloObject<'AlertCondition'>[];
  alertNotificationTargets: OpenSloObject<'AlertNotificationTarget'>[];
  /**
   * Where alerts go: an SLO whose AlertPolicies name AlertNotificationTargets is routed to the sloguard.yaml
   * targets of the same names (the OpenSLO object names the target; its URL, a secret, stays in the config).
   */
  notificationRoutes: NotificationRoute[];
}

/** Where an SLO's indicator is written: inline in the SLO, or in an SLI object it references. */
export interface IndicatorSource {
  name: string;
  spec: ObjectOf<'SLI'>['spec'];
  document: YamlDocument;
  path: Path;
}
