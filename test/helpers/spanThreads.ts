import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { SpanDecoder } from '../../src/ingest/zipkin/decoder.js';
import { createLogger } from '../../src/ingestCore.js';
import { createApp, createSloguard, type Sloguard } from '../../src/service.js';
import { CHECK_RESPONSES, ensureBuilt, ROOT } from './service.js';
import { shopSpans } from './shopSlos.js';
import type { tempDir } from './tmp.js';

interface ThreadScript {
  /** Import lines the script needs beyond the decoder's. */
  imports?: string;
  /** Statements run on each request (`request` in scope) before the built span decoder answers it. */
  onRequest: string;
  threads: number;
  maxWaitMs?: number;
  /** Runs before the app closes (e.g. releases a thread the script holds). */
  beforeClose?: () => void;
}

/**
 * An in-process sloguard whose span-parsing threads run the built decoder behind a script of the test's: how a
 * test makes a thread stop, hang or take notes on cue. Started before the file's tests and stopped after them
 * (register the folder's cleanup before calling this: after-hooks run in reverse order).
 */
export function appWithSpanThreads(dir: ReturnType<typeof tempDir>, script: ThreadScript) {
  const state = {} as { sloguard: Sloguard; app: FastifyInstance };
  beforeAll(async () => {
    ensureBuilt();
    const dist = join(ROOT, 'dist');
    const source = `${script.imports ?? ''}
import { workerData } from 'node:worker_threads';
import { answerRequests } from ${JSON.stringify(pathToFileURL(join(dist, 'workers.js')).href)};
import { spanDecoderFor } from ${JSON.stringify(pathToFileURL(join(dist, 'ingest/zipkin/decode.js')).href)};
const decode = spanDecoderFor(workerData);
answerRequests((request) => {
  ${script.onRequest}
  return decode(request);
});
`;
    const entry = pathToFileURL(dir.file('scriptedDecoder.mjs', source));
    const config = {
      ...loadConfig({ SLOGUARD_LOG_LEVEL: 'silent', SLOGUARD_CHECK_RESPONSES: CHECK_RESPONSES }),
      databasePath: join(dir.path, 'sloguard.db'),
      definitionsPath: join(ROOT, 'slo-definitions'),
    };
    state.sloguard = createSloguard(config, createLogger('silent'));
    const setup = { templates: {}, thresholdsUs: [], countingRules: [] };
    state.sloguard.spans = new SpanDecoder(
      state.sloguard.routes,
      setup,
      script.threads,
      entry,
      script.maxWaitMs,
    );
    ({ app: state.app } = await createApp(state.sloguard));
  });
  afterAll(async () => {
    script.beforeClose?.();
    await state.app?.close();
    state.sloguard?.close();
  });
  return {
    /** A batch of the shop's spans, one of them named `marker` when given (the script's cue). */
    body: (marker?: string) => {
      const spans = shopSpans(Date.now() * 1000);
      if (marker !== undefined) spans[1_234]!.name = marker;
      return JSON.stringify(spans);
    },
    post: (payload: string) =>
      state.app.inject({
        method: 'POST',
        url: '/api/v2/spans',
        headers: { 'content-type': 'application/json' },
        payload,
      }),
    /** Requests stored in the bucket store so far. */
    stored: () =>
      (
        state.sloguard.db.prepare('SELECT COALESCE(SUM(total), 0) AS n FROM minute_buckets').get() as {
          n: number;
        }
      ).n,
    sloguard: () => state.sloguard,
  };
}
