import { loadDefinitions } from '../definitions/load.js';
import { lintDefinitions } from '../evaluate/definitionLints.js';
import { EXIT } from './exitCodes.js';

/** `sloguard validate`: exit 0 when every SLO file is valid, 1 with file:line:column messages otherwise. */
export function runValidate(
  paths: string[],
  io: { out: (text: string) => void; err: (text: string) => void },
): number {
  const { definitions, errors, warnings, files } = loadDefinitions(paths);
  for (const warning of [...warnings, ...lintDefinitions(definitions)]) io.err(`warning: ${warning.message}`);
  for (const error of errors) io.err(error.message);
  if (errors.length > 0) {
    io.err(`${errors.length} problem${errors.length === 1 ? '' : 's'} in ${files.length} files`);
    return EXIT.invalid;
  }
  io.out(`ok: ${definitions.length} SLOs in ${files.length} files`);
  return EXIT.ok;
}
