/**
 * The layering of src/ (docs/architecture.md, issue #18). `npm run lint:layers` checks it; npm test runs that.
 * Paths may sit under test/fixtures/layering/, where test/unit/layering.test.ts shows each rule failing.
 */
const SRC = '^(?:test/fixtures/layering/)?src/';

/**
 * Top to bottom: a layer may import the layers below it, never one above. Folders sharing a layer (alert and
 * gate, schedule and rules) import each other in neither direction, so no two folders form a cycle. http sits
 * above telemetry: its /metrics route serves telemetry's registry.
 */
const LAYERS = [
  // The entry points: the `sloguard` command and the demo.
  ['cli', 'demo'],
  // The composition root and the root files it wires with (the reloader, the definition set, the ingest core
  // that `sloguard import` uses alone).
  ['service.ts', 'reload.ts', 'definitionSet.ts', 'ingestCore.ts'],
  ['http'],
  ['telemetry'],
  ['alert', 'gate'],
  // control: the replicated control plane's PostgreSQL (docs/scaling.md#a-replicated-control-plane): the
  // evaluator lease, the shared statuses and gate state, under the gate and alerting that use them, over the
  // scheduler whose statuses it shares.
  ['control'],
  ['schedule', 'rules'],
  // remote: a collector's counters, on-disk buffer and remote-write sender (issue #21).
  ['sources', 'remote'],
  ['ingest'],
  // workers.ts starts worker threads for ingest and the store's checkpointer; repeatingJob.ts runs the periodic
  // work of tailers, scrapers, the outbox and the evaluation tick.
  ['store', 'workers.ts', 'repeatingJob.ts'],
  ['evaluate'],
  ['definitions'],
  ['config'],
  ['model'],
];

/** A regex matching the files of some top-level folders (`gate`) or files (`service.ts`) of src/. */
const under = (names) =>
  `${SRC}(?:${names.map((name) => (name.endsWith('.ts') ? `${name.replace('.', '\\.')}$` : `${name}/`)).join('|')})`;

const layerRules = LAYERS.slice(1).map((layer, index) => ({
  name: `layer-${layer[0].replace('.ts', '')}`,
  comment: `${layer.join(', ')} may not import a layer above it (${LAYERS.slice(0, index + 1)
    .flat()
    .join(', ')})`,
  severity: 'error',
  from: { path: under(layer) },
  to: { path: under(LAYERS.slice(0, index + 1).flat()) },
}));

const folders = (layer) => layer.filter((name) => !name.endsWith('.ts'));
const siblingRules = LAYERS.map(folders)
  .filter((layer) => layer.length > 1)
  .map((layer) => ({
    name: `siblings-${layer.join('-')}`,
    comment: `${layer.join(' and ')} share a layer: neither imports the other`,
    severity: 'error',
    from: { path: `${SRC}(${layer.join('|')})/` },
    to: { path: `${SRC}(?:${layer.join('|')})/`, pathNot: `${SRC}$1/` },
  }));

module.exports = {
  forbidden: [
    {
      name: 'model-is-a-leaf',
      comment: 'src/model/ is the vocabulary: it imports nothing else of the project',
      severity: 'error',
      from: { path: `${SRC}model/` },
      to: { path: `${SRC}(?!model/)` },
    },
    {
      name: 'no-circular',
      comment: 'no import cycle between modules, type-only imports included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    ...siblingRules,
    {
      name: 'pure-kernels',
      comment:
        'the SLO math (evaluate/) and the gate decision (gate/decide.ts) take data in and give data out: no store, no sources, no scheduler, no HTTP, no SQLite, no files',
      severity: 'error',
      from: { path: `${SRC}(?:evaluate/|gate/decide\\.ts$)` },
      to: {
        path: [
          `${SRC}(?:store|sources)/`,
          '(?:^|/)node_modules/(?:node-cron|fastify|better-sqlite3)/',
          '^(?:node:)?fs(?:/promises)?$',
        ],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a cycle through types is still a cycle to read through.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: {
      archi: { collapsePattern: '^src/[^/]+' },
      text: { highlightFocused: true },
    },
  },
};
