import { parseNginxLine } from '../../src/ingest/loadbalancer/nginx.js';
import { LogTailer, type TailerDeps } from '../../src/ingest/tail/tailer.js';
import type { Sloguard } from '../../src/service.js';
import { TailOffsetStore } from '../../src/store/tailOffsets.js';

const silent = { info() {}, warn() {} };

/** A tailer of one nginx log for service `web` (source `edge`), polled by the test; `deps` adds or replaces. */
export function nginxTailer(sloguard: Sloguard, path: string, deps: Partial<TailerDeps> = {}): LogTailer {
  return new LogTailer(
    { path, format: 'nginx', source: 'edge', service: 'web', status: 'edge', pollIntervalMs: 60_000 },
    {
      pipeline: sloguard.pipeline,
      routes: sloguard.routes,
      offsets: new TailOffsetStore(sloguard.db),
      parse: parseNginxLine,
      log: silent,
      ...deps,
    },
  );
}
