import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { SloguardProcess } from './service.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

/** What the client tests read back of an SLO: its good and valid events. */
export interface SloCounts {
  good: number;
  valid: number;
}

/** A sloguard process with `slos` (YAML documents) as its only definitions; `cleanup` stops it and drops them. */
export async function serviceWithSlos(prefix: string, slos: string) {
  const definitions = tempDir(prefix);
  definitions.file('slos.yaml', slos);
  const service = await SloguardProcess.start({ definitions: definitions.path });
  return {
    service,
    async cleanup() {
      await service.cleanup();
      definitions.cleanup();
    },
  };
}

/** Polls until the evaluator (1 s tick in tests) has seen `valid` events of SLO `name`, then returns its counts. */
export async function settled(service: SloguardProcess, name: string, valid: number): Promise<SloCounts> {
  const sli = async () => (await service.json<SloCounts>(`/api/v1/slos/${name}`)).body;
  await waitFor(`${name} to count ${valid} events`, async () => (await sli()).valid >= valid);
  const { good, valid: seen } = await sli();
  return { good, valid: seen };
}

/**
 * How long an exporter waits for sloguard's answer. A batch whose answer is late is dropped, never sent again
 * (the SDKs' 10 s and 30 s defaults), and the test would then wait for counts that never come: on a busy CI
 * machine the answer gets room.
 */
export const EXPORT_TIMEOUT_MS = 60_000;

/** An OpenTelemetry SDK tracer provider of service `name`, batching its spans to `exporter`. */
export function tracerProvider(name: string, exporter: SpanExporter): NodeTracerProvider {
  return new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': name }),
    spanProcessors: [new BatchSpanProcessor(exporter, { exportTimeoutMillis: EXPORT_TIMEOUT_MS })],
  });
}
