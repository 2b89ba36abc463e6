import type { OutgoingRequest } from '../../model/notification.js';
import type { ChatMessage } from '../message.js';
import type { PayloadContext } from '../notifier.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Alerts for Alertmanager's `POST /api/v2/alerts` (postableAlerts): Alertmanager then groups, dedups,
 * repeats and routes them like any Prometheus alert. A resolve is the same labels with `endsAt` now.
 */
export function alertmanagerPayload(message: ChatMessage, context: PayloadContext): OutgoingRequest {
  return {
    path: '/api/v2/alerts',
    body: message.alerts.map((alert) => ({
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: iso(alert.startsAtMs),
      endsAt: iso(alert.endsAtMs),
      generatorURL: message.link?.url ?? `${context.publicUrl}/`,
    })),
  };
}
