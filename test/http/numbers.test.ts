import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { percentText, tidyNumber, tidyNumbers } from '../../src/evaluate/numbers.js';
import { testApp } from '../helpers/app.js';

describe('numbers without float noise', () => {
  it('tidies what floating point adds, keeps integers and what people wrote', () => {
    expect(99.9 / 100).not.toBe(0.999);
    expect(tidyNumber(99.9 / 100)).toBe(0.999);
    expect(tidyNumber(0.1 + 0.2)).toBe(0.3);
    expect(tidyNumber(1 - 0.9995)).toBe(0.0005);
    expect(tidyNumber(1_764_770_000_123)).toBe(1_764_770_000_123);
    expect(tidyNumber(2 / 3)).toBeCloseTo(2 / 3, 11);
    expect(tidyNumbers({ a: [0.1 + 0.2, null, 'x'], b: { c: 99.9 / 100 } })).toEqual({
      a: [0.3, null, 'x'],
      b: { c: 0.999 },
    });
    expect(percentText(99.9 / 100, 3)).toBe('99.900%');
    expect(percentText(null)).toBe('n/a');
  });

  let ctx: Awaited<ReturnType<typeof testApp>>;
  beforeEach(async () => {
    ctx = await testApp();
  });
  afterEach(async () => {
    await ctx.close();
  });

  it('shows 99.9% as objective 0.999 in the status and the gate answer', async () => {
    const status = (await ctx.app.inject('/api/v1/slos/checkout-availability')).json();
    expect(status.objective).toBe(0.999);
    const list = (await ctx.app.inject('/api/v1/slos')).json();
    expect(list.slos.find((s: { name: string }) => s.name === 'checkout-availability').objective).toBe(0.999);
    const gate = (await ctx.app.inject('/api/v1/gate?service=checkout&codes=body')).json();
    expect(gate.slos.find((s: { name: string }) => s.name === 'checkout-availability').objective).toBe(0.999);
  });
});
