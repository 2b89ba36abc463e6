import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { gateApp } from '../helpers/gateFixtures.js';
import { waitFor } from '../helpers/wait.js';

let ctx: Awaited<ReturnType<typeof gateApp>> | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

/** The decision id a route answered, from either answer shape (the gate's, or an evaluation's). */
const decisionIdOf = (body: { decision_id?: string; answer?: { decision_id: string } }) =>
  body.decision_id ?? body.answer?.decision_id;

const ROUTES = [
  { name: 'GET /api/v1/gate', method: 'GET', url: '/api/v1/gate?service=web&environment=production' },
  {
    name: 'POST /api/v1/gate/evaluations',
    method: 'POST',
    url: '/api/v1/gate/evaluations',
    payload: { service: 'web', environment: 'production' },
  },
] as const;

type GateContext = Awaited<ReturnType<typeof gateApp>>;

/** Each route that decides, with the traffic it is asked on, the decision expected and how to ask it. */
const CASES = [
  { ...ROUTES[0], bad: 0, expected: 'allow', ask: async () => ROUTES[0] },
  { ...ROUTES[1], bad: 0, expected: 'allow', ask: async () => ROUTES[1] },
  {
    name: 'GET /api/v1/gate/evaluations/:id (a poll of a running evaluation)',
    bad: 100,
    expected: 'deny',
    ask: async (gate: GateContext) => {
      const payload = { service: 'web', environment: 'production', wait: '1h' };
      const started = await gate.app.inject({ method: 'POST', url: '/api/v1/gate/evaluations', payload });
      expect(started.json()).toMatchObject({ status: 'RUNNING' });
      return { method: 'GET', url: `/api/v1/gate/evaluations/${started.json().id}` } as const;
    },
  },
];

describe('every gate decision is answered only once committed', () => {
  it.each(CASES)('$name waits for the audit trail to hold its decision', async ({ bad, expected, ask }) => {
    ctx = await gateApp();
    await ctx.traffic(100 - bad, bad);
    const request = await ask(ctx);
    const { decisions } = ctx.sloguard;
    // A store whose commit is held back until the test lets it go.
    const commit = decisions.committed.bind(decisions);
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let waiting = 0;
    decisions.committed = async () => {
      waiting++;
      await released;
      return commit();
    };
    let answered = false;
    const pending = ctx.app.inject(request).then((response) => {
      answered = true;
      return response;
    });
    await waitFor('the route to wait for the commit or to answer', () => waiting > 0 || answered);
    expect(answered, 'answered before its decision was committed').toBe(false);
    release();
    const response = await pending;
    expect([200, 202, 423]).toContain(response.statusCode);
    const id = decisionIdOf(response.json());
    expect(id).toBeTypeOf('string');
    // Another connection, as an auditor would read it: the row is there once the answer is.
    const reader = new Database(ctx.sloguard.config.databasePath, { readonly: true });
    try {
      const row = reader.prepare('SELECT decision FROM gate_decisions WHERE id = ?').get(id);
      expect(row).toEqual({ decision: expected });
    } finally {
      reader.close();
    }
  });

  it('answers an evaluation whose decision cannot be recorded by the no-data policy, as /gate does', async () => {
    ctx = await gateApp();
    await ctx.traffic(100, 0);
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    ctx.sloguard.decisions.committed = () => Promise.reject(full);
    const gate = await ctx.app.inject(ROUTES[0].url);
    const evaluation = await ctx.app.inject(ROUTES[1]);
    // Production's on_no_data is deny: an unrecorded allow must not let a Spinnaker pipeline through.
    expect(gate.statusCode).toBe(423);
    expect(evaluation.statusCode).toBe(202);
    expect(evaluation.json()).toMatchObject({
      status: 'TERMINAL',
      decision: 'deny',
      allowed: false,
      reason: expect.stringContaining('cannot be recorded (database or disk is full) (on_no_data: deny)'),
    });
  });
});
