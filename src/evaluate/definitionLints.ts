import { formatDuration } from '../config/duration.js';
import { DefinitionError } from '../definitions/yamlSource.js';
import type { SloDefinition } from '../model/slo.js';
import { allowedErrorRatio, burnRateTiers } from './math.js';
import { fixedText } from './numbers.js';

const HOUR_MS = 3_600_000;

/**
 * Valid definitions that are surely not what was meant. Pure: reported by `sloguard validate` as warnings,
 * never refused.
 */
export function lintDefinitions(definitions: readonly SloDefinition[]): DefinitionError[] {
  const lints: DefinitionError[] = [];
  // At the field's own line where the loader kept it (native files), else at the document.
  const warn = (definition: SloDefinition, field: 'objective' | 'window' | 'timeslices', reason: string) => {
    const at = definition.fieldLocations?.[field === 'timeslices' ? 'budgeting' : field];
    lints.push(new DefinitionError(at ?? definition.location, field, `${definition.name}: ${reason}`));
  };
  for (const definition of definitions) {
    const allowed = allowedErrorRatio(definition.objective);
    for (const tier of burnRateTiers(definition.windowMs)) {
      if (tier.factor * allowed > 1) {
        warn(
          definition,
          'objective',
          `the ${tier.severity} tier over ${tier.longWindow} can never fire: burn rate ${fixedText(tier.factor, 3)} × allowed error ${allowed} needs more than 100% errors`,
        );
      }
    }
    const slice = definition.timeslices?.sliceMs;
    if (slice !== undefined && slice > definition.windowMs) {
      warn(
        definition,
        'timeslices',
        `a time slice of ${formatDuration(slice)} is longer than the ${definition.window} window`,
      );
    }
    if (definition.windowMs < HOUR_MS) {
      warn(
        definition,
        'window',
        `a window of ${formatDuration(definition.windowMs)} is shorter than an hour; was a month (1M, 30d) meant?`,
      );
    }
  }
  return lints;
}
