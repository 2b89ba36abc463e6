import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import type { Config } from '../config/config.js';
import { LOG_FORMATS, logFormatNames } from '../ingest/loadbalancer/formats.js';
import { importLogFile } from '../ingest/loadbalancer/importFile.js';
import { addSummary, emptySummary } from '../ingest/loadbalancer/lines.js';
import { createLogger, type IngestCore, openIngestCore } from '../ingestCore.js';
import type { StatusChoice } from '../model/accessLog.js';
import { type ImportedFile, ImportedFileStore } from '../store/importedFiles.js';
import { type DatabaseLock, DatabaseLockedError, lockDatabase } from '../store/lock.js';

export interface ImportOptions {
  format: string;
  source?: string;
  service?: string;
  status: StatusChoice;
  /** Count the files again even where an earlier import committed them. */
  force?: boolean;
  /** Parsing threads; importLogFile's default when absent. */
  threads?: number;
}

/** Bytes of a file's start that name it (its content, whatever it is called). */
const HEAD_BYTES = 64 * 1024;

type FileIdentity = Pick<ImportedFile, 'headSha256' | 'path' | 'size' | 'fileId'>;

async function identify(path: string): Promise<FileIdentity> {
  const file = await open(path, 'r');
  try {
    const { size, dev, ino } = await file.stat();
    const { buffer, bytesRead } = await file.read(Buffer.alloc(HEAD_BYTES), 0, HEAD_BYTES, 0);
    const headSha256 = createHash('sha256').update(buffer.subarray(0, bytesRead)).digest('hex');
    return { headSha256, path, size, fileId: `${dev}:${ino}` };
  } finally {
    await file.close();
  }
}

/** The record an earlier import left of the same bytes, unless --force, or a shorter plain file says they differ. */
function resumeFrom(
  earlier: ImportedFile | undefined,
  file: FileIdentity,
  force: boolean,
): ImportedFile | undefined {
  if (!earlier || force) return undefined;
  return earlier.size > file.size ? undefined : earlier;
}

const counts = (record: Pick<ImportedFile, 'lines' | 'accepted' | 'rejected' | 'skipped'>) =>
  `${record.lines} lines (${record.accepted} accepted, ${record.rejected} rejected, ${record.skipped} skipped)`;

/**
 * `sloguard import --format F file...`: reads access-log files (gzip'ed rotated ones too) straight into the
 * database, with the same parsing, route templates and buckets as the HTTP ingest. A progress bar shows on
 * a terminal. Each commit records, in its own transaction, how far each file was read (by the sha256 of its
 * head): a re-run resumes where an interrupted one stopped and counts no byte twice; `--force` counts the
 * files again from their start. Returns the exit code: 0 when every file was read (bad lines are counted,
 * not fatal), 1 when a service (or another import) holds the database, 64 for bad usage.
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
  const identities = await Promise.all(files.map(identify));
  // One process owns a database: an import beside a running service would double its writers.
  let lock: DatabaseLock;
  try {
    lock = lockDatabase(config.databasePath, 'sloguard import');
  } catch (error) {
    if (!(error instanceof DatabaseLockedError)) throw error;
    err(`${error.message}; to add logs to a running service, POST them to its /api/v1/ingest/lb`);
    return 1;
  }
  // Only what writing observations needs: no HTTP server, scheduler, span threads or OpenTelemetry, and no
  // WAL checkpoint thread (nothing waits on a commit here; SQLite checkpoints inside every 1,000th page).
  let core: IngestCore;
  try {
    // stdout carries the import's own report: the log goes to stderr.
    core = openIngestCore(config, createLogger(config.logLevel, process.stderr));
  } catch (error) {
    lock.release();
    throw error;
  }
  core.cardinality.onOverflow(({ cap, refused, folded }) =>
    err(
      `series cap "${cap}" reached (${folded} new series of service "${refused.service}" counted under an overflow series; docs/security.md#cardinality)`,
    ),
  );
  const imported = new ImportedFileStore(core.db);
  const totalBytes = identities.reduce((sum, file) => sum + file.size, 0);
  const bar = process.stderr.isTTY
    ? new SingleBar({
        format: 'importing [{bar}] {percentage}% | {value}/{total} bytes | ETA {eta}s',
        stream: process.stderr,
      })
    : undefined;
  bar?.start(totalBytes, 0);
  const summary = emptySummary();
  try {
    for (const file of identities) {
      const context = {
        source,
        service: options.service,
        settings,
        routes: core.routes,
        statusFrom: options.status,
      };
      const earlier = resumeFrom(imported.get(file.headSha256), file, options.force === true);
      const base = earlier ?? { offset: 0, lines: 0, accepted: 0, rejected: 0, skipped: 0 };
      let record: ImportedFile | undefined;
      const fileSummary = await importLogFile(file.path, options.format, context, core.pipeline, {
        from: base,
        onBytes: (bytes) => bar?.increment(bytes),
        threads: options.threads,
        committed: (progress) => {
          record = {
            ...file,
            offset: progress.offset,
            lines: progress.lines,
            accepted: base.accepted + progress.summary.accepted,
            rejected: base.rejected + progress.summary.rejected,
            skipped: base.skipped + progress.summary.skipped,
            updatedMs: Date.now(),
          };
          imported.put(record);
        },
      });
      for (const problem of fileSummary.problems) err(`${file.path}:${problem.line}: ${problem.reason}`);
      addSummary(summary, fileSummary);
      if (earlier && record?.offset === earlier.offset) {
        out(
          `${file.path}: already imported up to byte ${earlier.offset} (${counts(earlier)}); nothing new counted, --force counts it again`,
        );
      } else if (record) {
        const resumed = earlier ? `, resumed at byte ${earlier.offset}` : '';
        out(`${file.path}: committed up to byte ${record.offset}${resumed}: ${counts(record)}`);
      }
    }
  } finally {
    bar?.stop();
    core.close();
    lock.release();
  }
  out(
    `imported ${summary.accepted} lines (${summary.rejected} rejected, ${summary.skipped} skipped) from ${files.length} files`,
  );
  return 0;
}
