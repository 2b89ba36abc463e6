import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestAndEvaluate, nginxLine, testApp } from './app.js';
import { tempDir } from './tmp.js';

/**
 * SLOs with labels, display names, owners and runbooks over two services, and a composite of two of them:
 * `games` has no GatePolicy, so nothing names an environment for it and nobody asks its gate.
 */
export const LABELLED_SLOS = `
apiVersion: sloguard/v1
kind: SLO
metadata:
  name: games-availability
  service: games
  displayName: Games load without server errors
  labels: { team: games, tier: "1" }
spec:
  description: Every game page answers without a 5xx.
  indicator: { source: loadbalancer, select: { route: /play } }
  objective: 99.9
  window: 28d
  runbook: https://runbooks.example.com/games
  owner: team-games
---
apiVersion: sloguard/v1
kind: SLO
metadata:
  name: games-latency
  service: games
  labels: { team: games, tier: "2" }
spec:
  indicator: { source: loadbalancer, select: { route: /play }, good: { latency: "<= 500ms" } }
  objective: 99
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata:
  name: cart-availability
  service: shop
  displayName: Cart answers
  labels: { team: payments, tier: "1" }
spec:
  indicator: { source: loadbalancer, select: { route: /cart } }
  objective: 99
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata:
  name: search-availability
  service: shop
  labels: { team: "search:core" }
spec:
  indicator: { source: loadbalancer, select: { route: /search } }
  objective: 99
  window: 28d
---
apiVersion: sloguard/v1
kind: CompositeSLO
metadata:
  name: shop-browse
  service: shop
  displayName: Browsing the shop
  labels: { team: payments }
spec:
  objective: 99
  window: 28d
  components:
    - { slo: cart-availability, weight: 1 }
    - { slo: search-availability, weight: 3 }
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: news-availability, service: news }
spec:
  indicator: { source: loadbalancer, select: { route: /news } }
  objective: 99
  window: 28d
`;

const MINUTE = 60_000;

/**
 * An hour of traffic ending at `nowMs`: /play fails every other request (games-availability exhausted, its
 * page tier firing), /cart fails one in fifty (2%: its 1% budget overspent), /search and /news never fail.
 */
export function labelledTraffic(nowMs: number): Record<'games' | 'shop' | 'news', string[]> {
  const games: string[] = [];
  const shop: string[] = [];
  const news: string[] = [];
  for (let minute = 60; minute > 0; minute--) {
    for (let i = 0; i < 30; i++) {
      const at = nowMs - minute * MINUTE + i * 2_000;
      games.push(nginxLine(at, 'GET', '/play', i % 2 === 0 ? 503 : 200, 0.1));
      shop.push(nginxLine(at, 'GET', '/cart', (minute * 30 + i) % 50 === 0 ? 503 : 200, 0.05));
      shop.push(nginxLine(at, 'GET', '/search', 200, 0.05));
      news.push(nginxLine(at, 'GET', '/news', 200, 0.05));
    }
  }
  return { games, shop, news };
}

/**
 * The service over LABELLED_SLOS with labelledTraffic ingested and evaluated (the evaluation's listeners ran:
 * freezes follow it). `close` stops it and removes its definitions.
 */
export async function labelledApp() {
  const definitions = tempDir('sloguard-labels-');
  writeFileSync(join(definitions.path, 'labelled.yaml'), LABELLED_SLOS);
  const ctx = await testApp({ definitionsPath: definitions.path });
  await ingestAndEvaluate(ctx, labelledTraffic(Date.now()));
  return {
    ...ctx,
    close: async () => {
      await ctx.close();
      definitions.cleanup();
    },
  };
}
