import { Counter, type Registry } from 'prom-client';
import type { Sloguard } from '../sloguard.js';
import { AlertEpisodeStore } from '../store/alertEpisodes.js';
import { DeploymentStore } from '../store/deployments.js';
import { OutboxStore } from '../store/outbox.js';
import { StatusStore } from '../store/statuses.js';
import { Alerting } from './alerting.js';
import type { AlertLog, DispatcherOptions } from './outbox.js';

/**
 * Wires alerting into a sloguard: every evaluation feeds the alert episodes, every gate override created is
 * announced, the last deployment before an episode is looked up from the gate's markers, and OpenSLO alert
 * policies add routes.
 */
export function createAlerting(
  sloguard: Sloguard,
  log: AlertLog,
  options: DispatcherOptions & { registry?: Registry } = {},
): Alerting {
  const { registry, ...dispatcherOptions } = options;
  const counted =
    registry && notificationCounter(registry, [...sloguard.config.notifications.targets.keys()]);
  const deployments = new DeploymentStore(sloguard.db);
  const statuses = new StatusStore(sloguard.db);
  const outbox = new OutboxStore(sloguard.db);
  // The service holds the database lock, so no other sender is alive: a killed predecessor's claims would
  // otherwise hold its messages back for a whole lease after the restart.
  outbox.releaseClaims();
  const alerting = new Alerting(
    {
      config: sloguard.config,
      registry: () => sloguard.registry,
      statuses: () => sloguard.evaluator.current(),
      lastStatus: (slo) => statuses.load(slo),
      episodes: new AlertEpisodeStore(sloguard.db),
      outbox,
      lastDeployment: (service, atOrBeforeMs) =>
        deployments.list({ service, toMs: atOrBeforeMs + 1, limit: 1 })[0],
      policyRoutes: sloguard.openslo.notificationRoutes,
      log,
    },
    {
      ...dispatcherOptions,
      ...(counted && {
        onDelivered: (target: string) => counted.inc({ target, outcome: 'delivered' }),
        onGiveUp: (target: string) => counted.inc({ target, outcome: 'given_up' }),
      }),
    },
  );
  sloguard.evaluator.onEvaluated((statuses) => alerting.evaluated(statuses));
  sloguard.gate.on('override-created', (override) => alerting.overrideCreated(override));
  return alerting;
}

/** `sloguard_notifications_total{target, outcome}`: every target's series exist from the start, at 0. */
function notificationCounter(registry: Registry, targets: readonly string[]) {
  const counter = new Counter({
    name: 'sloguard_notifications_total',
    help: 'Chat notifications by target and outcome: delivered, or given_up (refused, or older than giveUpAfter)',
    labelNames: ['target', 'outcome'] as const,
    registers: [registry],
  });
  for (const target of targets)
    for (const outcome of ['delivered', 'given_up']) counter.inc({ target, outcome }, 0);
  return counter;
}
