import Type, { type Static } from 'typebox';

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** `notifications.weeklyReport` in sloguard.yaml: when the weekly reliability report goes out, and to whom. */
export const WeeklyReportFile = Type.Object(
  {
    day: Type.Unsafe<(typeof DAYS)[number]>(Type.Union(DAYS.map((day) => Type.Literal(day)))),
    /** Time of day, 24-hour `HH:MM`, in `timeZone`. */
    time: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
    /** An IANA time zone (`Europe/Berlin`); default UTC. */
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Target names; default every target. */
    targets: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type WeeklyReportFile = Static<typeof WeeklyReportFile>;

export interface WeeklyReportSettings {
  /** The node-cron expression of the day and time, run in `timeZone`. */
  cron: string;
  timeZone: string;
  /** Target names the report goes to. */
  targets: string[];
}

/** Whether the runtime knows the IANA zone (Intl throws a RangeError for an unknown one). */
function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Checks the block beyond its schema (the zone, target names) and turns day and time into a cron line. */
export function resolveWeeklyReport(
  file: WeeklyReportFile,
  targetNames: readonly string[],
  fail: (field: string, message: string) => never,
): WeeklyReportSettings {
  const field = 'notifications.weeklyReport';
  const timeZone = file.timeZone ?? 'UTC';
  if (!knownTimeZone(timeZone)) fail(`${field}.timeZone`, `unknown IANA time zone "${timeZone}"`);
  for (const name of file.targets ?? [])
    if (!targetNames.includes(name)) fail(`${field}.targets`, `no target named "${name}"`);
  const targets = file.targets ?? [...targetNames];
  if (targets.length === 0) fail(`${field}.targets`, 'no notification target to send the report to');
  const [hour, minute] = file.time.split(':').map(Number);
  return { cron: `${minute} ${hour} * * ${DAYS.indexOf(file.day)}`, timeZone, targets };
}
