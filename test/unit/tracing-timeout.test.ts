import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config.js';
import { EXPORT_TIMEOUT_VARIABLE, exportTimeoutMs } from '../../src/telemetry/tracing.js';

describe('the self-tracing export timeout (OTEL_EXPORTER_ZIPKIN_TIMEOUT)', () => {
  it("is the specification's 10 s when unset or empty", () => {
    expect(exportTimeoutMs({})).toBe(10_000);
    expect(exportTimeoutMs({ [EXPORT_TIMEOUT_VARIABLE]: '' })).toBe(10_000);
  });

  it('takes whole milliseconds from 100 to the batch processor’s 30 s', () => {
    expect(exportTimeoutMs({ [EXPORT_TIMEOUT_VARIABLE]: '100' })).toBe(100);
    expect(exportTimeoutMs({ [EXPORT_TIMEOUT_VARIABLE]: '30000' })).toBe(30_000);
  });

  it.each(['99', '30001', '1.5', '10s', '-1'])('refuses %s, naming the variable', (text) => {
    const read = () => exportTimeoutMs({ [EXPORT_TIMEOUT_VARIABLE]: text });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/OTEL_EXPORTER_ZIPKIN_TIMEOUT.*100 to 30000/);
  });
});
