import { writeFileSync } from 'node:fs';
import { parseDuration } from '../config/duration.js';
import { loadDefinitions } from '../definitions/load.js';
import { exportedQueries, prometheusRules, ruleFileYaml } from '../rules/promqlRules.js';
import { EXIT } from './exitCodes.js';

export interface RulesOptions {
  format: 'prometheus';
  window?: string;
  output?: string;
  /** Also native SLOs, over the series sloguard collectors write. */
  native?: boolean;
}

/**
 * `sloguard rules`: the SLOs read with PromQL as a Prometheus rule file, on stdout or into `--output`.
 * Exit 0 when written, 1 when the definitions are invalid, 64 on bad usage.
 */
export function runRules(
  paths: string[],
  options: RulesOptions,
  out: (text: string) => void,
  err: (text: string) => void,
): number {
  const windowMs = options.window === undefined ? undefined : parseDuration(options.window);
  if (options.window !== undefined && windowMs === undefined) {
    err(`--window: expected a duration like 28d or 30d, got "${options.window}"`);
    return EXIT.usage;
  }
  const { definitions, errors } = loadDefinitions(paths);
  for (const error of errors) err(error.message);
  if (errors.length > 0) return EXIT.invalid;
  const ruleOptions = { ...(windowMs !== undefined && { windowMs }), native: options.native === true };
  const file = prometheusRules(definitions, ruleOptions);
  const exported = definitions.filter((d) => exportedQueries(d, ruleOptions)).length;
  if (exported < definitions.length)
    err(
      `${definitions.length - exported} SLOs skipped: ${options.native ? 'composites have no' : 'only source: prometheus SLOs (and native ones with --native) have'} rules to export`,
    );
  const text = ruleFileYaml(file);
  if (options.output) writeFileSync(options.output, text);
  else out(text.trimEnd());
  return 0;
}
