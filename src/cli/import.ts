import { statSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import type { Config } from '../config/config.js';
import type { StatusChoice } from '../ingest/loadbalancer/format.js';
import { LOG_FORMATS, logFormatNames } from '../ingest/loadbalancer/formats.js';
import { importLogFile } from '../ingest/loadbalancer/importFile.js';
import { addSummary, emptySummary } from '../ingest/loadbalancer/lines.js';
import { createSloguard } from '../sloguard.js';

export interface ImportOptions {
  format: string;
  source?: string;
  service?: string;
  status: StatusChoice;
}

/**
 * `sloguard import --format F file...`: reads access-log files (gzip'ed rotated ones too) straight into the
 * database, with the same parsing, route templates and buckets as the HTTP ingest. A progress bar shows on
 * a terminal. Returns the exit code: 0 when every file was read (bad lines are counted, not fatal), 64 for
 * bad usage.
 */
export async function runImport(
  files: string[],
  options: ImportOptions,
  config: Config,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  if (!LOG_FORMATS[options.format]) {
    err(`unknown format "${options.format}"; allowed: ${logFormatNames().join(', ')}`);
    return 64;
  }
  const source = options.source ?? options.format;
  const settings = config.sources[source];
  if (!options.service && !settings?.service && !settings?.hosts) {
    err(`no service for source "${source}": pass --service or map the source in sloguard.yaml`);
    return 64;
  }
  const sloguard = createSloguard(config);
  sloguard.cardinality.onOverflow(({ cap, refused, folded }) =>
    err(
      `series cap "${cap}" reached (${folded} new series of service "${refused.service}" counted under an overflow series; docs/security.md#cardinality)`,
    ),
  );
  const totalBytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
  const bar = process.stderr.isTTY
    ? new SingleBar({
        format: 'importing [{bar}] {percentage}% | {value}/{total} bytes | ETA {eta}s',
        stream: process.stderr,
      })
    : undefined;
  bar?.start(totalBytes, 0);
  const summary = emptySummary();
  try {
    for (const file of files) {
      const context = {
        source,
        service: options.service,
        settings,
        routes: sloguard.routes,
        statusFrom: options.status,
      };
      const fileSummary = await importLogFile(file, options.format, context, sloguard.pipeline, (bytes) =>
        bar?.increment(bytes),
      );
      for (const problem of fileSummary.problems) err(`${file}:${problem.line}: ${problem.reason}`);
      addSummary(summary, fileSummary);
    }
  } finally {
    bar?.stop();
    await sloguard.stopThreads();
    sloguard.close();
  }
  out(
    `imported ${summary.accepted} lines (${summary.rejected} rejected, ${summary.skipped} skipped) from ${files.length} files`,
  );
  return 0;
}
