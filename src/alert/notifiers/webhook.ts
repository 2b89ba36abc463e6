import { createHash } from 'node:crypto';
import type { OutgoingRequest } from '../../model/notification.js';
import type { ChatMessage, MessageAlert } from '../message.js';
import type { PayloadContext } from '../notifier.js';

/** Alertmanager writes this for a firing alert's endsAt in webhooks: Go's zero time. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

const sortedLabels = (labels: Record<string, string>) =>
  Object.keys(labels)
    .sort()
    .map((name) => `${name}="${labels[name]}"`)
    .join(', ');

/** A stable id of a label set, like Alertmanager's fingerprint (16 hex digits). */
export function fingerprint(labels: Record<string, string>): string {
  return createHash('sha256').update(sortedLabels(labels)).digest('hex').slice(0, 16);
}

/** The name/value pairs every record shares. */
function common(records: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = records;
  return Object.fromEntries(
    Object.entries(first ?? {}).filter(([name, value]) => rest.every((record) => record[name] === value)),
  );
}

/**
 * Alertmanager's webhook_config body, version 4, so receivers written for Alertmanager (and tools that
 * parse it) take sloguard's alerts unchanged. One SLO's alerts form one group, keyed by `slo`.
 */
export function webhookPayload(message: ChatMessage, context: PayloadContext): OutgoingRequest {
  const { alerts } = message;
  const groupLabels = common(alerts.map((alert) => alert.labels));
  const group: Record<string, string> = groupLabels.slo
    ? { slo: groupLabels.slo }
    : { alertname: groupLabels.alertname ?? 'sloguard' };
  return {
    body: {
      version: '4',
      groupKey: `{}:{${sortedLabels(group)}}`,
      truncatedAlerts: 0,
      status: alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
      receiver: context.target,
      groupLabels: group,
      commonLabels: common(alerts.map((alert) => alert.labels)),
      commonAnnotations: common(alerts.map((alert) => alert.annotations)),
      externalURL: context.publicUrl,
      alerts: alerts.map((alert: MessageAlert) => ({
        status: alert.status,
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt: new Date(alert.startsAtMs).toISOString(),
        endsAt: alert.status === 'resolved' ? new Date(alert.endsAtMs).toISOString() : ZERO_TIME,
        generatorURL: message.link?.url ?? `${context.publicUrl}/`,
        fingerprint: fingerprint(alert.labels),
      })),
    },
  };
}
