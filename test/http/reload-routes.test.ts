import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDefinitionSet } from '../../src/definitionSet.js';
import { testApp } from '../helpers/app.js';

const ADDED = `apiVersion: sloguard/v1
kind: SLO
metadata: { name: search-availability, service: search }
spec:
  indicator: { source: loadbalancer }
  objective: 99.9
  window: 28d
`;

/**
 * Routes read the definition set in force at each request: an SLO added by a reload is served by every route
 * at once (the chart and deployment routes used to keep the set of the start, answering 404 and 400 for it).
 */
describe('routes after a reload', () => {
  let ctx: Awaited<ReturnType<typeof testApp>>;
  beforeEach(async () => {
    ctx = await testApp();
  });
  afterEach(() => ctx.close());

  it('serve an SLO the reload added: chart, status, deployment marker, correction, readiness', async () => {
    const { definitionsPath } = ctx.sloguard.config;
    writeFileSync(join(definitionsPath, 'search.yaml'), ADDED);
    await ctx.sloguard.replace(loadDefinitionSet(definitionsPath), ctx.sloguard.config);
    ctx.sloguard.evaluator.evaluateAll();

    const inject = (method: 'GET' | 'POST', url: string, payload?: object) =>
      ctx.app.inject({ method, url, ...(payload && { payload }) });
    const chart = await inject('GET', '/api/v1/slos/search-availability/timeseries');
    expect(chart.statusCode).toBe(200);
    expect(chart.json()).toMatchObject({ name: 'search-availability', service: 'search' });
    expect((await inject('GET', '/api/v1/slos/search-availability')).statusCode).toBe(200);
    const marker = await inject('POST', '/api/v1/deployments', { service: 'search', version: 'v2' });
    expect(marker.statusCode).toBe(201);
    const correction = await inject('POST', '/api/v1/corrections', {
      reason: 'planned maintenance',
      window: {
        start: new Date(Date.now() - 3_600_000).toISOString(),
        end: new Date(Date.now() - 1_800_000).toISOString(),
      },
      appliesTo: { services: ['search'] },
      mode: 'exclude',
    });
    expect(correction.statusCode, correction.body).toBe(201);
    expect((await inject('GET', '/readyz')).json()).toMatchObject({ status: 'ready', defined: 5 });
  });
});
