import { defineConfig } from 'vitest/config';

/** One project per kind of test, so `npm run test:unit` gives a quick loop; `npm test` runs them all. */
const project = (name: string) => ({
  extends: true as const,
  test: { name, include: [`test/${name}/**/*.test.ts`] },
});

export default defineConfig({
  test: {
    // CI's two cores run two test files with their servers and threads at once: a test that takes 10 s alone
    // can take a minute there. A timeout costs time only when a test fails (waits poll with their own deadline).
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Integration tests start real servers on free ports; two workers match the machines' two cores.
    maxWorkers: 2,
    projects: [project('unit'), project('http'), project('integration'), project('browser')],
  },
});
