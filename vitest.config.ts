import { defineConfig } from 'vitest/config';

/** One project per kind of test, so `npm run test:unit` gives a quick loop; `npm test` runs them all. */
const project = (name: string) => ({
  extends: true as const,
  test: { name, include: [`test/${name}/**/*.test.ts`] },
});

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers on free ports; two workers match the machines' two cores.
    maxWorkers: 2,
    projects: [project('unit'), project('http'), project('integration'), project('browser')],
  },
});
