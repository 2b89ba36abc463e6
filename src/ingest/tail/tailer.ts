import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import type { SourceSettings } from '../../config/config.js';
import type { CollectorSettings } from '../../config/tail.js';
import { RepeatingJob } from '../../repeatingJob.js';
import type { TailOffset, TailOffsetStore } from '../../store/tailOffsets.js';
import type { LineParser } from '../loadbalancer/format.js';
import { ingestLinesSliced, type LineContext } from '../loadbalancer/lines.js';
import type { IngestPipeline } from '../pipeline.js';
import type { ServiceRoutes } from '../routeTemplates.js';

/** Bytes read (and committed) at most per step. */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** First bytes of a file kept to recognise it: a truncated or replaced file starts differently. */
const HEAD_BYTES = 128;
/**
 * A file rotated away (renamed, or deleted while open) is still read until it has not grown for this long:
 * nginx and HAProxy keep writing to the old file until they reopen their logs.
 */
const ROTATED_GRACE_MS = 5_000;

export interface TailLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface TailerDeps {
  pipeline: IngestPipeline;
  routes: ServiceRoutes;
  offsets: TailOffsetStore;
  parse: LineParser;
  /** The `sources:` mapping of the collector's source, under its own service/hosts. */
  sourceSettings?: SourceSettings;
  log: TailLog;
  /** Counts committed lines refused, by reason (the service's /metrics). */
  countRejected?: (reason: string, lines: number) => void;
  now?: () => number;
}

interface TrackedFile {
  fileId: string;
  path: string;
  handle: FileHandle;
  offset: number;
  head: Buffer;
  /** Set while the path no longer leads to this file: when it was last seen growing. */
  rotatedSinceMs?: number;
}

/** What a tailer has done since it started. */
export interface TailCounts {
  accepted: number;
  rejected: number;
  skipped: number;
  /** Bytes committed (lines read into buckets, with their offset). */
  bytes: number;
}

/**
 * Follows the files of one `collectors:` entry: new lines are parsed into buckets and the file's offset is
 * committed in the same transaction, so after a crash reading resumes exactly where the store stands.
 * Files are known by dev:inode, so rename rotation (nginx, logrotate `create`) keeps reading the old file
 * to its end while the new one starts at 0; copytruncate is seen as a file shrinking or starting with
 * different bytes, and read again from 0. Polling, not inotify: it works on every filesystem and a poll
 * costs one stat per file.
 */
export class LogTailer {
  readonly counts: TailCounts = { accepted: 0, rejected: 0, skipped: 0, bytes: 0 };
  private readonly files = new Map<string, TrackedFile>();
  private readonly stored = new Map<string, TailOffset>();
  private readonly context: LineContext;
  private lastPass: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  private readonly schedule: RepeatingJob;

  constructor(
    private readonly settings: CollectorSettings,
    private readonly deps: TailerDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.schedule = new RepeatingJob(
      () => this.poll(),
      settings.pollIntervalMs,
      (error) => deps.log.warn({ err: error, collector: this.name }, 'tail poll failed'),
    );
    const service = settings.service ?? deps.sourceSettings?.service;
    const hosts = settings.hosts ?? deps.sourceSettings?.hosts;
    this.context = {
      source: settings.source,
      settings: { ...(service && { service }), ...(hosts && { hosts }) },
      routes: deps.routes,
      statusFrom: settings.status,
    };
  }

  get name(): string {
    return this.settings.path;
  }

  /** Picks up stored offsets (finding files rotated while we were down by inode), then polls in the background. */
  async start(): Promise<void> {
    for (const row of this.deps.offsets.list(this.name)) this.stored.set(row.fileId, row);
    await this.recoverRotated();
    // Not awaited: catching up on a big file must not hold back the start of the service.
    this.schedule.start();
  }

  async stop(): Promise<void> {
    await this.schedule.stop();
    await this.lastPass;
    for (const file of this.files.values()) await file.handle.close();
    this.files.clear();
  }

  /** One pass, after any pass under way (passes never overlap: each reads from where the last committed). */
  poll(): Promise<void> {
    const pass = this.lastPass.then(() => this.pass());
    this.lastPass = pass.catch(() => {});
    return pass;
  }

  /** Finds the files, reads what is new in each (rotated-away files first), drops finished ones. */
  private async pass(): Promise<void> {
    const current = new Set<string>();
    for (const path of await this.matchingPaths()) {
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) continue;
      const fileId = `${info.dev}:${info.ino}`;
      current.add(fileId);
      const tracked = this.files.get(fileId);
      if (tracked) {
        tracked.path = path;
        tracked.rotatedSinceMs = undefined;
      } else await this.track(fileId, path);
    }
    const ordered = [...this.files.values()].sort(
      (a, b) => Number(current.has(a.fileId)) - Number(current.has(b.fileId)),
    );
    for (const file of ordered) {
      if (this.schedule.stopped) return;
      const grew = await this.readNew(file);
      if (current.has(file.fileId)) continue;
      const now = this.now();
      if (grew || file.rotatedSinceMs === undefined) file.rotatedSinceMs = now;
      else if (now - file.rotatedSinceMs > ROTATED_GRACE_MS) {
        await file.handle.close();
        this.files.delete(file.fileId);
        this.deps.offsets.forget(this.name, file.fileId);
      }
    }
  }

  private async matchingPaths(): Promise<string[]> {
    if (!isDynamicPattern(this.settings.path)) return [this.settings.path];
    return (await glob(this.settings.path, { absolute: true, onlyFiles: true })).sort();
  }

  /** Starts following a file, from its stored offset when it is the same file we read before. */
  private async track(fileId: string, path: string): Promise<TrackedFile | undefined> {
    const handle = await open(path, 'r').catch(() => undefined);
    if (!handle) return undefined;
    const row = this.stored.get(fileId);
    this.stored.delete(fileId);
    const file: TrackedFile = { fileId, path, handle, offset: 0, head: Buffer.alloc(0) };
    if (row) {
      file.offset = row.offset;
      file.head = Buffer.from(row.head, 'base64');
    }
    this.files.set(fileId, file);
    return file;
  }

  /** Stored files whose path now leads elsewhere were rotated while we were down: find them by inode. */
  private async recoverRotated(): Promise<void> {
    const folders = new Map<string, TailOffset[]>();
    for (const row of this.stored.values()) {
      const info = await stat(row.path).catch(() => undefined);
      if (info && `${info.dev}:${info.ino}` === row.fileId) continue;
      const list = folders.get(dirname(row.path)) ?? [];
      list.push(row);
      folders.set(dirname(row.path), list);
    }
    for (const [folder, rows] of folders) {
      const names = await readdir(folder).catch(() => [] as string[]);
      for (const name of names) {
        const path = join(folder, name);
        const info = await stat(path).catch(() => undefined);
        const row = info && rows.find((r) => r.fileId === `${info.dev}:${info.ino}`);
        if (row) {
          const file = await this.track(row.fileId, path);
          if (file) file.rotatedSinceMs = this.now();
        }
      }
      for (const row of rows) {
        if (this.stored.delete(row.fileId)) this.deps.offsets.forget(this.name, row.fileId);
      }
    }
  }

  /** Whether the file still starts with the bytes it started with when we read it. */
  private async sameStart(file: TrackedFile): Promise<boolean> {
    if (file.head.length === 0) return true;
    const buffer = Buffer.alloc(file.head.length);
    const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, 0);
    return bytesRead === buffer.length && buffer.equals(file.head);
  }

  /** Reads whole new lines into buckets, committing each chunk with its offset. True when anything was read. */
  private async readNew(file: TrackedFile): Promise<boolean> {
    const { size } = await file.handle.stat();
    if (size < file.offset || !(await this.sameStart(file))) {
      this.deps.log.info(
        { collector: this.name, path: file.path },
        'log file truncated or replaced: reading it from the start',
      );
      file.offset = 0;
      file.head = Buffer.alloc(0);
    }
    let grew = false;
    // Few enough lines per commit that the write queue takes them (a larger batch is refused for good).
    const chunkBytes = this.deps.pipeline.chunkBytesAtMost(CHUNK_BYTES);
    while (file.offset < size && !this.schedule.stopped) {
      const length = Math.min(chunkBytes, size - file.offset);
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await file.handle.read(buffer, 0, length, file.offset);
      let end = buffer.lastIndexOf(10, bytesRead - 1) + 1;
      // A line longer than a chunk cannot be a request line: it is taken whole and rejected by the parser.
      if (end === 0 && bytesRead === chunkBytes) end = bytesRead;
      if (end === 0) break;
      if (file.head.length < HEAD_BYTES && file.offset === 0) {
        file.head = Buffer.from(buffer.subarray(0, Math.min(HEAD_BYTES, end)));
      }
      if (!(await this.commit(file, buffer.toString('utf8', 0, end), file.offset + end))) break;
      grew = true;
    }
    return grew;
  }

  private async commit(file: TrackedFile, text: string, nextOffset: number): Promise<boolean> {
    const batch = this.deps.pipeline.newBatch();
    const summary = await ingestLinesSliced(text, this.deps.parse, this.context, batch);
    const offset: TailOffset = {
      collector: this.name,
      fileId: file.fileId,
      path: file.path,
      offset: nextOffset,
      head: file.head.toString('base64'),
    };
    batch.alsoInTransaction(() => this.deps.offsets.put(offset, this.now()));
    try {
      await this.deps.pipeline.submit(batch);
    } catch (error) {
      // Not committed: neither the buckets nor the offset moved, so the next poll reads the same lines again.
      this.deps.log.warn(
        { err: error, collector: this.name, path: file.path },
        'tailed lines not committed; retrying',
      );
      return false;
    }
    this.counts.bytes += nextOffset - file.offset;
    file.offset = nextOffset;
    this.counts.accepted += summary.accepted;
    this.counts.rejected += summary.rejected;
    this.counts.skipped += summary.skipped;
    for (const [reason, lines] of Object.entries(summary.reasons)) this.deps.countRejected?.(reason, lines);
    if (summary.rejected > 0) {
      this.deps.log.warn(
        { collector: this.name, path: file.path, rejected: summary.rejected, first: summary.problems[0] },
        'tailed lines rejected',
      );
    }
    return true;
  }
}
