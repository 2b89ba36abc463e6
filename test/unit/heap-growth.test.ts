import { describe, expect, it } from 'vitest';
import { limitHeapGrowth } from '../../src/heapGrowth.js';

describe('the service limits V8 heap growth (issue #23, RSS at 10,000 SLOs)', () => {
  it('sets it when the operator chose none', () => {
    expect(limitHeapGrowth('--enable-source-maps')).toBe(true);
  });

  it.each(['--heap-growing-percent=20', '--heap_growing_percent 80'])('keeps an operator’s %s', (options) => {
    expect(limitHeapGrowth(`--enable-source-maps ${options}`)).toBe(false);
  });
});
