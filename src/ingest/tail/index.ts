import type { Sloguard } from '../../sloguard.js';
import { TailOffsetStore } from '../../store/tailOffsets.js';
import { LOG_FORMATS } from '../loadbalancer/formats.js';
import { LogTailer, type TailLog } from './tailer.js';

/** Starts a tailer per `collectors:` entry; `stop` ends them after their current commit. */
export async function startTailers(
  sloguard: Sloguard,
  log: TailLog,
  countRejected?: (reason: string, lines: number) => void,
): Promise<{ tailers: LogTailer[]; stop(): Promise<void> }> {
  const offsets = new TailOffsetStore(sloguard.db);
  const tailers = sloguard.config.collectors.map(
    (settings) =>
      new LogTailer(settings, {
        pipeline: sloguard.pipeline,
        routes: sloguard.routes,
        offsets,
        parse: LOG_FORMATS[settings.format]!,
        sourceSettings: sloguard.config.sources[settings.source],
        log,
        ...(countRejected && { countRejected }),
      }),
  );
  await Promise.all(tailers.map((tailer) => tailer.start()));
  for (const tailer of tailers) log.info({ collector: tailer.name }, 'tailing');
  return {
    tailers,
    async stop() {
      await Promise.all(tailers.map((tailer) => tailer.stop()));
    },
  };
}
