import { type FSWatcher, watch } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';
import { type Config, type ReloadableSettings, settingsNeedingRestart } from './config/config.js';
import {
  type DefinitionSet,
  InvalidDefinitionsError,
  type LoadedDefinitions,
  loadDefinitionSet,
} from './definitionSet.js';
import type { ReloadResult } from './http/plugins/reload.js';

/** How long the definitions folder must stay quiet before a change reloads (an editor writes in bursts). */
export const WATCH_DEBOUNCE_MS = 500;

export type ReloadTrigger = 'SIGHUP' | 'http' | 'file change';

export interface ReloadLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** What a reload swaps: the definition set and the settings a reload may change. */
export interface Reloadable {
  /** The settings in force (the definitions folder among them). */
  readonly config: Config;
  /** Swaps in a checked set and settings at once; resolves when the old set's span threads are done. */
  replace(definitions: DefinitionSet, settings: ReloadableSettings): Promise<void>;
}

export interface ReloaderParts {
  sloguard: Reloadable;
  /** Reads sloguard.yaml and the environment again; without it, a reload reads the definitions only. */
  rereadConfig?: () => Config;
  /**
   * Applies a set just swapped in: alerting routes (before its first await, so no tick sees the new SLOs with
   * the old routes), then tailers and scrapers, then an evaluation.
   */
  applied: (changed: { collectors: boolean; scrapeTargets: boolean }) => Promise<void>;
  log: ReloadLog;
  metrics: Registry;
}

/**
 * Reloads as Prometheus does: on SIGHUP, `POST /-/reload` and changes under the definitions folder, the
 * definitions and the reloadable settings are read again and checked as one set. A set with any problem is
 * refused whole and the running one stays; `/metrics` says whether the last reload worked and when one last
 * did. Reloads run one at a time: a trigger during a reload waits for it, then reads the files again.
 */
export class Reloader {
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly successful: Gauge;
  private readonly successTime: Gauge;

  constructor(private readonly parts: ReloaderParts) {
    this.successful = new Gauge({
      name: 'sloguard_config_last_reload_successful',
      help: 'Whether the last reload of SLO definitions and settings worked (1) or was refused (0)',
      registers: [parts.metrics],
    });
    this.successTime = new Gauge({
      name: 'sloguard_config_last_reload_success_timestamp_seconds',
      help: 'When definitions and settings were last loaded successfully (start or reload), in Unix seconds',
      registers: [parts.metrics],
    });
    this.successful.set(1);
    this.successTime.set(Date.now() / 1000);
  }

  /** Never rejects: a failure is logged, counted in the metric and answered. */
  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    const next = this.queue.then(() =>
      this.reloadNow(trigger).catch((error: unknown): ReloadResult => {
        this.parts.log.error({ err: error, trigger }, 'reload failed');
        this.successful.set(0);
        return { ok: false, errors: [(error as Error).message] };
      }),
    );
    this.queue = next;
    return next;
  }

  private async reloadNow(trigger: ReloadTrigger): Promise<ReloadResult> {
    const { sloguard, log } = this.parts;
    let definitions: LoadedDefinitions;
    let config: Config;
    try {
      definitions = loadDefinitionSet(sloguard.config.definitionsPath);
      config = this.parts.rereadConfig?.() ?? sloguard.config;
    } catch (error) {
      const errors =
        error instanceof InvalidDefinitionsError
          ? error.errors.map((e) => e.message)
          : [(error as Error).message];
      for (const message of errors) log.error({ trigger }, `reload refused: ${message}`);
      this.successful.set(0);
      return { ok: false, errors };
    }
    for (const warning of definitions.warnings) log.warn({ trigger }, warning);
    const restartOnly = settingsNeedingRestart(sloguard.config, config);
    if (restartOnly.length > 0)
      log.warn({ settings: restartOnly }, 'reload: these settings changed and take effect at a restart');
    const changed = {
      collectors: JSON.stringify(config.collectors) !== JSON.stringify(sloguard.config.collectors),
      scrapeTargets: JSON.stringify(config.scrapeTargets) !== JSON.stringify(sloguard.config.scrapeTargets),
    };
    // No await between the swap and `applied`'s first (synchronous) step: a tick in between would alert on
    // the new SLOs by the old routes.
    const oldThreadsDone = sloguard.replace(definitions, config);
    const applied = this.parts.applied(changed);
    this.successful.set(1);
    this.successTime.set(Date.now() / 1000);
    const slos = definitions.registry.definitions.length;
    log.info({ trigger, slos }, 'configuration reloaded');
    try {
      await applied;
    } catch (error) {
      // The new set is in place; what failed (a tailer's file, an evaluation) retries on its own schedule.
      log.error({ err: error, trigger }, 'reload applied, but restarting a part failed');
    }
    await oldThreadsDone;
    return { ok: true, slos };
  }

  /** Reloads after a change under `path` (recursively), once the folder has been quiet for the debounce. */
  watch(path: string): void {
    try {
      this.watcher = watch(path, { recursive: true }, () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload('file change'), WATCH_DEBOUNCE_MS);
      });
    } catch (error) {
      this.parts.log.warn({ err: error, path }, 'cannot watch the definitions; reload with SIGHUP instead');
      return;
    }
    this.watcher.on('error', (error) =>
      this.parts.log.warn({ err: error, path }, 'watching the definitions failed; reload with SIGHUP'),
    );
  }

  /** Stops watching and waits for a reload under way. */
  async stop(): Promise<void> {
    this.watcher?.close();
    clearTimeout(this.debounce);
    await this.queue;
  }
}
