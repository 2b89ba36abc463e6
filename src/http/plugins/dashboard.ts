import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** dashboards/ at the repository root, the same two levels up from src/http/plugins and dist/http/plugins. */
export const DASHBOARDS_DIR = resolve(import.meta.dirname, '../../../dashboards');
/** chart.js's own dist folder, wherever npm put the package: pages load it from us, never from a CDN. */
const CHART_JS_DIR = dirname(createRequire(import.meta.url).resolve('chart.js'));

const PAGES = { '/': 'overview.html', '/slo/:name': 'detail.html', '/gate': 'gate.html' } as const;

/** The dashboard: static pages that read the JSON API. Scripts are files, never inline, so the app's strict CSP holds. */
const dashboard: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, {
    root: resolve(DASHBOARDS_DIR, 'assets'),
    prefix: '/assets/',
    index: false,
  });
  await app.register(fastifyStatic, {
    root: CHART_JS_DIR,
    prefix: '/vendor/chart.js/',
    decorateReply: false,
    index: false,
    allowedPath: (path) => path === '/chart.umd.min.js',
  });
  for (const [url, file] of Object.entries(PAGES)) {
    app.get(url, (_request, reply) => reply.sendFile(file, DASHBOARDS_DIR));
  }
};
export default dashboard;
