import { describe, expect, it } from 'vitest';
import {
  complement,
  DEFAULT_RULES,
  globMatch,
  judgeEvent,
  ruleId,
  statusRanges,
} from '../../src/definitions/eventRules.js';
import { loadDefinitions } from '../../src/definitions/load.js';
import { cpuTimed } from '../helpers/cpu.js';
import { tempDir } from '../helpers/tmp.js';

describe('status sets', () => {
  it('reads codes, classes, ranges and comparisons, merged', () => {
    expect(statusRanges(['5xx', 429, '499', '>= 598'])).toEqual([
      { from: 429, to: 429 },
      { from: 499, to: 599 },
    ]);
    expect(statusRanges('< 500')).toEqual([{ from: 100, to: 499 }]);
    expect(statusRanges('> 499')).toEqual([{ from: 500, to: 599 }]);
    expect(statusRanges('400-404')).toEqual([{ from: 400, to: 404 }]);
    expect(complement(statusRanges(['2xx', '3xx']))).toEqual([
      { from: 100, to: 199 },
      { from: 400, to: 599 },
    ]);
    for (const wrong of ['6xx', '42', '>= 700', '500-400', 'five hundred', '099']) {
      expect(() => statusRanges(wrong), wrong).toThrow(/expected a status/);
    }
  });

  it('gives one id to one rule however it is written', () => {
    expect(ruleId({ bad: statusRanges(['5xx', 429]), exclude: [] })).toBe(
      ruleId({ bad: statusRanges([429, '>= 500']), exclude: [] }),
    );
    expect(ruleId({ bad: statusRanges('5xx'), exclude: [] })).not.toBe(
      ruleId({ bad: statusRanges('5xx'), exclude: [{ method: 'OPTIONS' }] }),
    );
  });
});

describe('glob patterns', () => {
  it('matches * as any run of characters, nothing else special', () => {
    expect(globMatch('*bot*', 'Googlebot/2.1', true)).toBe(true);
    expect(globMatch('*bot*', 'GOOGLEBOT', true)).toBe(true);
    expect(globMatch('*bot*', 'GOOGLEBOT')).toBe(false);
    expect(globMatch('kube-probe/*', 'kube-probe/1.29')).toBe(true);
    expect(globMatch('kube-probe/*', 'not kube-probe/1.29')).toBe(false);
    expect(globMatch('/health*', '/healthz')).toBe(true);
    expect(globMatch('a*b*a', 'aba')).toBe(true);
    expect(globMatch('ab*ba', 'aba')).toBe(false);
    expect(globMatch('/a.b', '/aXb')).toBe(false);
    expect(globMatch('/healthz', '/healthz')).toBe(true);
    expect(globMatch('*', '')).toBe(true);
  });

  it('stays linear on a hostile user agent', () => {
    const text = 'a'.repeat(200_000);
    const { result: matched, ms: linear } = cpuTimed(() => globMatch('*a*a*a*a*a*a*a*a*b*', text));
    expect(matched).toBe(false);
    // A backtracking matcher needs ~n^8 steps here; this one a few passes over the text (CPU time: a busy
    // machine does not stretch it).
    expect(linear).toBeLessThan(1_000);
  });
});

describe('judging an event', () => {
  const rules = {
    bad: statusRanges(['5xx', 429]),
    exclude: [
      { route: '/healthz' },
      { userAgent: '*bot*' },
      { method: 'OPTIONS', status: statusRanges('2xx') },
    ],
  };
  const event = { operation: '/checkout', method: 'GET', error: false };
  it('leaves out what an exclusion matches in every field it names', () => {
    expect(judgeEvent(rules, { ...event, operation: '/healthz', status: 503 })).toBe('excluded');
    expect(judgeEvent(rules, { ...event, status: 200, userAgent: 'Bingbot' })).toBe('excluded');
    expect(judgeEvent(rules, { ...event, method: 'OPTIONS', status: 204 })).toBe('excluded');
    expect(judgeEvent(rules, { ...event, method: 'OPTIONS', status: 503 })).toBe('bad');
    expect(judgeEvent(rules, { ...event, status: 429 })).toBe('bad');
    expect(judgeEvent(rules, { ...event, status: 404 })).toBe('good');
  });
  it('judges an event without a status by its error flag', () => {
    expect(judgeEvent(rules, { ...event, error: true })).toBe('bad');
    expect(judgeEvent(DEFAULT_RULES, { ...event, error: false })).toBe('good');
  });
});

describe('rules in SLO files', () => {
  const slo = (indicator: string) => `apiVersion: sloguard/v1
kind: SLO
metadata: { name: checkout, service: shop }
spec:
  indicator:
${indicator}
  objective: 99.9
  window: 28d
`;
  const errorsOf = (indicator: string) => {
    const dir = tempDir('sloguard-rules-defs-');
    try {
      return loadDefinitions([dir.file('slo.yaml', slo(indicator))]).errors.map(
        (e) => `${e.location.line}: ${e.field}: ${e.reason}`,
      );
    } finally {
      dir.cleanup();
    }
  };

  it('keeps the seed rule without counting anything new', () => {
    const dir = tempDir('sloguard-rules-defs-');
    try {
      const file = dir.file('slo.yaml', slo('    source: loadbalancer\n    good: { status: "< 500" }'));
      expect(loadDefinitions([file]).definitions[0]!.indicator.rules).toBeUndefined();
    } finally {
      dir.cleanup();
    }
  });

  it('names the field of each mistake', () => {
    expect(errorsOf('    source: loadbalancer\n    bad: { status: ["5xx", "6xx"] }')).toEqual([
      '7: spec.indicator.bad.status: expected a status (429), a class ("5xx"), a range ("400-499") or a comparison (">= 500"), got "6xx"',
    ]);
    expect(
      errorsOf(
        '    source: loadbalancer\n    good: { latency: "<= 300ms" }\n    exclude: [{ route: /healthz }]',
      ),
    ).toEqual([
      '8: spec.indicator.exclude: status rules and exclusions apply to availability indicators, not latency',
    ]);
    expect(errorsOf('    source: loadbalancer\n    good: { status: 2xx }\n    bad: { status: 5xx }')).toEqual(
      ['8: spec.indicator.bad: give good.status or bad.status, not both'],
    );
    expect(
      errorsOf('    source: loadbalancer\n    exclude: [{ userAgent: "*bot*", colour: red }]')[0],
    ).toMatch(/spec\.indicator\.exclude\.0\.colour: unknown field "colour"/);
    expect(errorsOf('    source: loadbalancer\n    exclude: [{ status: [404, "9xx"] }]')[0]).toMatch(
      /^7: spec\.indicator\.exclude\.0\.status: expected a status/,
    );
  });
});
