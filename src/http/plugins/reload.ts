import type { FastifyPluginAsync } from 'fastify';
import { HttpError } from '../errors.js';
import { Reloaded } from '../schemas/service.js';

/** What a reload came to: the route answers it (the service's Reloader makes it). */
export type ReloadResult = { ok: true; slos: number } | { ok: false; errors: string[] };

/**
 * `POST /-/reload` (admin scope, as any write): Prometheus's reload endpoint. 200 once the new set runs; 422
 * when it was refused (the old set keeps running), naming the first problem with its file:line:column.
 */
const reload: FastifyPluginAsync<{ reload: () => Promise<ReloadResult> }> = async (app, options) => {
  app.post('/-/reload', { config: { access: 'admin' }, schema: { response: Reloaded } }, async () => {
    const result = await options.reload();
    if (!result.ok) {
      const first = result.errors[0] ?? 'unknown problem';
      const more = result.errors.length > 1 ? ` (and ${result.errors.length - 1} more, see the log)` : '';
      throw new HttpError(
        422,
        'reload_refused',
        `the new configuration was refused, the running one stays: ${first}${more}`,
        /^[^:\s]+:\d+:\d+/.exec(first)?.[0],
      );
    }
    return { status: 'reloaded', slos: result.slos };
  });
};
export default reload;
