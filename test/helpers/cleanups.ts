import { afterEach } from 'vitest';

/** A log that says nothing: for parts under test whose warnings the test checks another way, or not at all. */
export const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * What a test started, stopped after each test in the reverse order it was pushed (a pool before its
 * server), even when the test failed half-way.
 */
export function cleanupsAfterEach(): Array<() => Promise<void> | void> {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}
