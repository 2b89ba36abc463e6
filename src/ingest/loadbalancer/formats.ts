import type { LineParser } from './format.js';
import { parseNginxLine } from './nginx.js';

/** Access-log formats by the name used in `?format=`, `sloguard import --format` and collectors. */
export const LOG_FORMATS: Record<string, LineParser> = {
  nginx: parseNginxLine,
};

export function logFormatNames(): string[] {
  return Object.keys(LOG_FORMATS);
}
