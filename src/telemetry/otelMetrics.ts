import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { SloStatus } from '../model/status.js';
import type { SloEvaluator } from '../schedule/scheduler.js';

export interface OtelMetrics {
  /** Exports what was observed now (tests, shutdown). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The per-SLO figures, as OpenTelemetry names them (dots, unit "1" for ratios). */
const GAUGES: Array<{ name: string; description: string; value: (status: SloStatus) => number | null }> = [
  { name: 'sloguard.slo.sli', description: 'Good over valid events in the SLO window', value: (s) => s.sli },
  { name: 'sloguard.slo.objective', description: 'The SLO objective as a ratio', value: (s) => s.objective },
  {
    name: 'sloguard.slo.error_budget.remaining',
    description: 'Share of the error budget left; negative when overspent',
    value: (s) => s.budget.remainingRatio,
  },
];

/**
 * Pushes the SLO figures that /metrics shows as OpenTelemetry metrics over OTLP/HTTP (JSON) to a collector.
 * Off unless SLOGUARD_OTEL_METRICS_URL is set: the service must run offline. Its own MeterProvider, never the
 * global one, so it does not mix with the self-tracing SDK.
 */
export function startOtelMetrics(evaluator: SloEvaluator, url: string, intervalMs: number): OtelMetrics {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'sloguard' }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url }),
        exportIntervalMillis: intervalMs,
        exportTimeoutMillis: Math.min(intervalMs, 30_000),
      }),
    ],
  });
  const meter = provider.getMeter('sloguard');
  for (const gauge of GAUGES) {
    meter
      .createObservableGauge(gauge.name, { description: gauge.description, unit: '1' })
      .addCallback((result) => {
        for (const status of evaluator.current()) {
          const value = gauge.value(status);
          if (value !== null)
            result.observe(value, { 'slo.name': status.name, 'service.name': status.service });
        }
      });
  }
  meter
    .createObservableGauge('sloguard.slo.burn_rate', {
      description: 'Error rate over the window divided by the allowed error rate',
      unit: '1',
    })
    .addCallback((result) => {
      for (const status of evaluator.current()) {
        for (const [window, rate] of Object.entries(status.burnRates)) {
          if (rate !== null)
            result.observe(rate, {
              'slo.name': status.name,
              'service.name': status.service,
              'slo.window': window,
            });
        }
      }
    });
  return { flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}
