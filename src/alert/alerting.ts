import cron, { type ScheduledTask } from 'node-cron';
import type { Config } from '../config/config.js';
import type { NotificationRoute, NotificationSettings, NotificationTarget } from '../config/notifications.js';
import type { CurrentRegistry, SloRegistry } from '../definitions/registry.js';
import type { AlertEpisode } from '../model/alert.js';
import type { SloStatus } from '../model/status.js';
import { runWhole, type SteppedWork } from '../schedule/slices.js';
import type { AlertBurns, AlertEpisodes } from '../store/alertEpisodes.js';
import type { GateOverride } from '../store/gateOverrides.js';
import type { IncidentWriter } from '../store/incidents.js';
import type { AlertOutbox } from '../store/outbox.js';
import {
  type ChatMessage,
  type DeploymentNote,
  formatAlert,
  formatDigest,
  formatNotice,
  type MessageField,
} from './message.js';
import { PAYLOAD_BUILDERS } from './notifiers/payloadBuilders.js';
import { type AlertLog, type DispatcherOptions, OutboxDispatcher } from './outbox.js';
import { targetsFor, targetsForService } from './routing.js';
import { type Delivery, send } from './send.js';
import {
  type AlertEvent,
  type BurnStart,
  incidentEpisode,
  isBurning,
  resolution,
  transition,
} from './state.js';
import { WeeklyReport, type WeeklyReportSources } from './weeklyReport.js';

/** A break-glass override as the gate announces it (the fields a notice shows). */
export type OverrideNotice = Pick<
  GateOverride,
  'service' | 'environment' | 'sha' | 'reason' | 'ticket' | 'actor' | 'expiresAtMs'
>;

export interface AlertingParts {
  config: Pick<Config, 'publicUrl' | 'notifications'>;
  /** The definition set in force (a reload swaps it). */
  definitions: CurrentRegistry;
  /** The latest status of every SLO, for digests. */
  statuses: () => readonly SloStatus[];
  /** The last status stored for an SLO, defined or not (a removed SLO's alert resolves with it). */
  lastStatus: (slo: string) => SloStatus | undefined;
  episodes: AlertEpisodes;
  /** The incident history: every episode, kept after it resolves. */
  incidents: IncidentWriter;
  /** Burns in progress, kept across restarts. */
  burns: AlertBurns;
  outbox: AlertOutbox;
  /** The last release of a service at or before a time, when deployments are recorded. */
  lastDeployment?: (service: string, atOrBeforeMs: number) => DeploymentNote | undefined;
  /** Routes from OpenSLO AlertPolicies, on top of sloguard.yaml's. */
  policyRoutes?: NotificationRoute[];
  /** A service's week for the weekly report (`notifications.weeklyReport`): the incident history's, as the API's. */
  serviceReport?: WeeklyReportSources['serviceReport'];
  log: AlertLog;
}

/**
 * What one evaluation's alerting reads of the configuration, taken when it begins: a reload between two of its
 * steps applies from the next evaluation on, as it did when the pass ran in one piece.
 */
interface AlertPass {
  registry: SloRegistry;
  routing: Pick<NotificationSettings, 'targets' | 'routes'>;
  settings: NotificationSettings;
  nowMs: number;
}

/** The payload of `message` for `target`, as the outbox keeps it. */
function payloadFor(target: NotificationTarget, message: ChatMessage, publicUrl: string) {
  return PAYLOAD_BUILDERS[target.kind](message, { target: target.name, publicUrl });
}

/**
 * Turns every evaluation into alert episodes and their messages, written to the outbox in the same
 * transaction as the episode change; the dispatcher sends them. Also writes digests and gate notices.
 */
export class Alerting {
  readonly dispatcher: OutboxDispatcher;
  private readonly digests: ScheduledTask[] = [];
  private weeklyReport: WeeklyReport | undefined;
  /** Targets and every route, sloguard.yaml's and OpenSLO's; names no target defines are dropped. */
  private routing: Pick<NotificationSettings, 'targets' | 'routes'>;
  /**
   * The SLO set of the last evaluation, for each SLO's labels then: a removed SLO's resolve carries the labels it
   * fired with, so Alertmanager matches it to the same alert. Kept whole: a set is never changed, only replaced.
   */
  private registrySeen: SloRegistry | undefined;
  /** Burns seen before their alert opened, per SLO (issue 19: the episode's spend counts from here). */
  private burns: Map<string, BurnStart>;
  /** Bad events in each SLO's window at its last evaluation without a burn: the baseline a burn starts from. */
  private readonly calm = new Map<string, number>();
  /** Each open episode's history record as last written, so an unchanged one is not written again. */
  private readonly saved = new Map<string, string>();
  private started = false;

  constructor(
    private readonly parts: AlertingParts,
    dispatcherOptions: DispatcherOptions = {},
  ) {
    this.dispatcher = new OutboxDispatcher(
      parts.outbox,
      parts.config.notifications,
      parts.log,
      dispatcherOptions,
    );
    this.routing = this.routingWith(parts.policyRoutes ?? []);
    this.burns = parts.burns.all();
  }

  /**
   * Takes up the stored state afresh: the burns in progress, and nothing remembered of earlier evaluations.
   * For a replica that becomes the lease holder, whose stores another replica wrote meanwhile
   * (docs/scaling.md#alerts-incidents-and-corrections).
   */
  resume(): void {
    this.burns = this.parts.burns.all();
    this.calm.clear();
    this.saved.clear();
  }

  private routingWith(policyRoutes: readonly NotificationRoute[]) {
    const { targets, routes } = this.parts.config.notifications;
    const known = policyRoutes.map((route) => {
      const unknown = route.targets.filter((name) => !targets.has(name));
      if (unknown.length > 0) {
        this.parts.log.warn(
          { slo: route.slo, targets: unknown },
          'OpenSLO notification targets not in sloguard.yaml',
        );
      }
      return { ...route, targets: route.targets.filter((name) => targets.has(name)) };
    });
    return { targets, routes: [...routes, ...known] };
  }

  /**
   * After a reload: targets, routes and digests from the config's new notifications block (replaced in
   * place) and the new OpenSLO alert policies. Messages already in the outbox keep their target.
   */
  reconfigure(policyRoutes: readonly NotificationRoute[]): void {
    this.routing = this.routingWith(policyRoutes);
    this.dispatcher.reconfigure(this.settings);
    if (!this.started) return;
    this.stopDigests();
    this.startDigests();
  }

  private get settings() {
    return this.parts.config.notifications;
  }

  private enqueue(
    targets: readonly string[],
    subject: string,
    message: ChatMessage,
    nowMs: number,
    settings = this.settings,
  ): void {
    for (const name of targets) {
      const target = settings.targets.get(name);
      if (target)
        this.parts.outbox.enqueue(
          name,
          subject,
          payloadFor(target, message, this.parts.config.publicUrl),
          nowMs,
        );
    }
  }

  /** Writes a message (a report) to the named targets' outbox in one transaction and wakes the sender. */
  announce(targets: readonly string[], subject: string, message: ChatMessage, nowMs = Date.now()): void {
    this.parts.episodes.atomically(() => this.enqueue(targets, subject, message, nowMs));
    this.dispatcher.wake();
  }

  /** The evaluator's listener, whole: one transition per SLO; an SLO that fails is logged and the rest go on. */
  evaluated(statuses: readonly SloStatus[], nowMs = Date.now()): void {
    runWhole(this.evaluatedInSteps(statuses, nowMs));
  }

  /**
   * `evaluated` as steps, one SLO (or one removed SLO's episode) a step, for a tick to run in slices: 10,000
   * SLOs held the loop 40-70 ms in one piece (docs/benchmarks.md). Each SLO's episode, history record and messages are one
   * transaction, as before; what a gate notice or a digest writes between two steps is a transaction of its own.
   */
  *evaluatedInSteps(statuses: readonly SloStatus[], nowMs = Date.now()): SteppedWork {
    const pass: AlertPass = {
      registry: this.parts.definitions.registry,
      routing: this.routing,
      settings: this.settings,
      nowMs,
    };
    for (const status of statuses) {
      try {
        this.evaluatedOne(pass, status);
      } catch (error) {
        this.parts.log.error({ err: error, slo: status.name }, 'alert evaluation failed');
      }
      yield;
    }
    yield* this.resolveRemovedSlos(pass);
    const { byName } = pass.registry;
    for (const slo of this.burns.keys()) if (!byName.has(slo)) this.parts.burns.set(slo, undefined);
    // What is kept per SLO (10,000 entries each) is swept a key a step.
    for (const watched of [this.burns, this.calm, this.saved])
      for (const slo of watched.keys()) {
        if (!byName.has(slo)) watched.delete(slo);
        yield;
      }
    this.registrySeen = pass.registry;
    this.dispatcher.wake();
  }

  /**
   * An SLO removed from the definitions (by a reload or before a restart) can no longer resolve by itself:
   * its open episode is resolved once, with the last status it had, and closed in the same transaction.
   */
  private *resolveRemovedSlos(pass: AlertPass): SteppedWork {
    const { nowMs } = pass;
    for (const episode of this.parts.episodes.all()) {
      if (pass.registry.byName.has(episode.slo)) continue;
      const last = this.parts.lastStatus(episode.slo);
      if (!last) {
        this.parts.episodes.atomically(() => {
          this.parts.episodes.set(episode.slo, undefined);
          this.parts.incidents.resolve(episode.id, nowMs);
        });
        this.parts.log.warn({ slo: episode.slo }, 'alert closed unannounced: the removed SLO left no status');
      } else {
        const event = { ...resolution(episode, last, nowMs), removed: true };
        this.record(pass, episode.slo, undefined, event, last);
      }
      yield;
    }
  }

  /**
   * Where the current burn of an SLO began: its first evaluation burning above 1×, with the bad events of the
   * evaluation before it (the burn's data may arrive all at once, in the tick that also opens the alert).
   */
  private burnOf(status: SloStatus, nowMs: number): BurnStart | undefined {
    if (!isBurning(status)) {
      this.burnEnded(status);
      return undefined;
    }
    let burn = this.burns.get(status.name);
    if (!burn) {
      burn = { startedAtMs: nowMs, badEventsBefore: this.calm.get(status.name) ?? status.budget.consumed };
      this.burns.set(status.name, burn);
      this.parts.burns.set(status.name, burn);
    }
    return burn;
  }

  /**
   * A burn is over when the budget stops burning or its episode resolves (a burn still going then starts a
   * new one): the next burn counts from the bad events now.
   */
  private burnEnded(status: SloStatus): void {
    this.calm.set(status.name, status.budget.consumed);
    if (this.burns.delete(status.name)) this.parts.burns.set(status.name, undefined);
  }

  private evaluatedOne(pass: AlertPass, status: SloStatus): void {
    const { nowMs } = pass;
    const open = this.parts.episodes.get(status.name);
    const burn = this.burnOf(status, nowMs);
    const { episode, event } = transition(open, status, nowMs, pass.settings.repeatIntervalMs, burn);
    if (event?.kind === 'resolved') this.burnEnded(status);
    if (!event && !episode) return;
    // An open episode whose alert and history record stand as they were needs no write this tick.
    const history = episode && JSON.stringify(incidentEpisode(episode, status, null));
    if (!event && JSON.stringify(episode) === JSON.stringify(open) && history === this.saved.get(status.name))
      return;
    this.record(pass, status.name, episode, event, status);
    if (history) this.saved.set(status.name, history);
    else this.saved.delete(status.name);
  }

  /**
   * Stores an SLO's episode, its record in the incident history and, in the same transaction, the messages
   * its event calls for.
   */
  private record(
    pass: AlertPass,
    slo: string,
    episode: AlertEpisode | undefined,
    event: AlertEvent | undefined,
    status: SloStatus,
  ) {
    const { nowMs, settings } = pass;
    this.parts.episodes.atomically(() => {
      this.parts.episodes.set(slo, episode);
      if (episode) this.parts.incidents.save(incidentEpisode(episode, status, null));
      else if (event?.kind === 'resolved')
        this.parts.incidents.save(incidentEpisode(event.episode, status, nowMs));
      if (!event) return;
      const deployment = this.parts.lastDeployment?.(status.service, event.episode.startedAtMs);
      const definition = pass.registry.byName.get(slo);
      const message = formatAlert(event, {
        publicUrl: this.parts.config.publicUrl,
        labels: definition?.labels ?? this.registrySeen?.byName.get(slo)?.labels ?? {},
        ...(definition?.runbook && { runbook: definition.runbook }),
        ...(definition?.owner && { owner: definition.owner }),
        repeatIntervalMs: settings.repeatIntervalMs,
        ...(deployment && { deployment }),
      });
      const subject = `${slo} ${event.kind} ${event.level}`;
      this.enqueue(targetsFor(pass.routing, status), subject, message, nowMs, settings);
      this.parts.log.info(
        { slo, event: event.kind, level: event.level, ...(event.removed && { removed: true }) },
        'alert event',
      );
    });
  }

  /** A notice to the service's targets that a gate override was created. */
  overrideCreated(override: OverrideNotice, nowMs = Date.now()): void {
    const slos = (this.parts.definitions.registry.byService.get(override.service) ?? []).map((d) => d.name);
    const fields: MessageField[] = [
      { label: 'Service', value: override.service },
      { label: 'Environment', value: override.environment || 'any' },
      { label: 'Version', value: override.sha ?? 'any' },
      { label: 'Reason', value: override.reason },
      { label: 'Ticket', value: override.ticket },
      { label: 'Created by', value: override.actor },
      { label: 'Expires', value: new Date(override.expiresAtMs).toISOString() },
    ];
    const message = formatNotice(
      'GateOverride',
      `Gate override created for ${override.service}`,
      `${override.actor} let releases of ${override.service} through the deploy gate: ${override.reason}`,
      fields,
      this.parts.config.publicUrl,
      nowMs,
    );
    this.announce(
      targetsForService(this.routing, override.service, slos),
      `override ${override.service}`,
      message,
      nowMs,
    );
  }

  /** Writes one target's report of every SLO routed to it. */
  digest(targetName: string, nowMs = Date.now()): void {
    const target = this.settings.targets.get(targetName);
    if (!target?.digest) return;
    const statuses = this.parts
      .statuses()
      .filter((status) => targetsFor(this.routing, status).includes(targetName));
    const message = formatDigest(target.digest.label, statuses, this.parts.config.publicUrl, nowMs);
    this.enqueue([targetName], `${target.digest.label.toLowerCase()} report`, message, nowMs);
    this.dispatcher.wake();
  }

  private scheduledDigest(targetName: string): void {
    try {
      this.digest(targetName);
    } catch (error) {
      this.parts.log.error({ err: error, target: targetName }, 'digest failed');
    }
  }

  private startDigests(): void {
    const { weeklyReport } = this.settings;
    const { serviceReport, statuses } = this.parts;
    if (weeklyReport && serviceReport) {
      this.weeklyReport = new WeeklyReport({
        settings: weeklyReport,
        publicUrl: this.parts.config.publicUrl,
        sources: { statuses, serviceReport },
        announce: (targets, subject, message, nowMs) => this.announce(targets, subject, message, nowMs),
        log: this.parts.log,
      });
      this.weeklyReport.start();
    }
    for (const target of this.settings.targets.values()) {
      if (!target.digest) continue;
      this.digests.push(
        cron.schedule(target.digest.cron, () => this.scheduledDigest(target.name), {
          name: `digest-${target.name}`,
          noOverlap: true,
          ...(target.digest.timeZone && { timezone: target.digest.timeZone }),
        }),
      );
    }
  }

  private stopDigests(): void {
    for (const task of this.digests.splice(0)) task.stop();
    this.weeklyReport?.stop();
    this.weeklyReport = undefined;
  }

  start(pollMs?: number): void {
    this.started = true;
    this.startDigests();
    this.dispatcher.start(pollMs);
  }

  async stop(): Promise<void> {
    this.started = false;
    this.stopDigests();
    await this.dispatcher.stop();
  }
}

/** `sloguard notify test TARGET`: one test message, sent now (not through the outbox), and what came of it. */
export function sendTestMessage(
  config: Pick<Config, 'publicUrl' | 'notifications'>,
  targetName: string,
  options: { fetch?: typeof fetch; nowMs?: number } = {},
): Promise<Delivery> | undefined {
  const target = config.notifications.targets.get(targetName);
  if (!target) return undefined;
  const nowMs = options.nowMs ?? Date.now();
  const message = formatNotice(
    'SloguardTest',
    `Test message from sloguard to ${target.name}`,
    `If you can read this, sloguard's ${target.kind} notifications reach this place.`,
    [{ label: 'Target', value: target.name }],
    config.publicUrl,
    nowMs,
  );
  return send(target.url, payloadFor(target, message, config.publicUrl), {
    ...(options.fetch && { fetch: options.fetch }),
    nowMs,
  });
}
