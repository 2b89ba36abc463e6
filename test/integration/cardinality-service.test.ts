import { afterEach, describe, expect, it } from 'vitest';
import { nginxLine } from '../helpers/app.js';
import { SloguardProcess } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

let service: SloguardProcess | undefined;
afterEach(async () => {
  await service?.cleanup();
  service = undefined;
});

/** Log lines of `count` routes of service `shop` the normaliser keeps as they are (letters, no ids). */
function routeLines(from: number, count: number): string {
  const t = Date.now() - 1_000;
  return Array.from({ length: count }, (_, k) =>
    nginxLine(
      t,
      'GET',
      `/r/${String.fromCharCode(97 + ((from + k) % 26))}${Math.floor((from + k) / 26)}x`,
      200,
      0.01,
    ),
  ).join('\n');
}

async function push(body: string): Promise<void> {
  const response = await fetch(`${service!.url}/api/v1/ingest/lb?format=nginx&service=shop&source=edge`, {
    method: 'POST',
    body,
  });
  expect(response.status).toBe(202);
}

async function metric(name: string): Promise<number | undefined> {
  const text = await (await fetch(`${service!.url}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('series caps in a running service', () => {
  it('warns naming the service, counts the overflow in /metrics, and keeps the cap after a restart', async () => {
    service = await SloguardProcess.start({ env: { SLOGUARD_MAX_SERIES_PER_SERVICE: '10' } });
    await push(routeLines(0, 30));
    expect(await metric('sloguard_series')).toBe(11);
    expect(await metric('sloguard_series_overflow_total{cap="series_per_service"}')).toBe(20);
    const warning = await waitFor('the cap warning in the log', () =>
      service!.logs
        .join('')
        .split('\n')
        .find((line) => line.includes('series cap reached')),
    );
    expect(JSON.parse(warning)).toMatchObject({
      level: 40,
      cap: 'series_per_service',
      service: 'shop',
      folded: 1,
    });
    // One warning a minute per cap, however many series fold.
    await push(routeLines(30, 30));
    const warnings = service.logs.join('').split('series cap reached').length - 1;
    expect(warnings).toBe(1);

    await service.stop();
    await service.restart();
    await push(routeLines(60, 5));
    expect(await metric('sloguard_series')).toBe(11);
    expect(await metric('sloguard_series_overflow_total{cap="series_per_service"}')).toBe(5);
  });
});
