import { ControlAlertState } from '../control/alertState.js';
import type { ControlDatabase } from '../control/database.js';
import type { EvaluatorLease } from '../control/lease.js';
import type { AlertingParts } from './alerting.js';
import type { AlertLog } from './outbox.js';

/** Alerting's stores on the replicas' PostgreSQL, and the turn each evaluation's alerting waits for. */
export interface ReplicatedAlerting {
  stores: Pick<AlertingParts, 'episodes' | 'incidents' | 'burns' | 'outbox'>;
  /**
   * Runs `alert` (one evaluation's alerting) on the lease holder only, after the evaluations before it
   * committed, and with the state read again from the database first when this replica has just gained the
   * lease or a commit failed: `resume` then lets alerting take the stored burns up. Resolves once `alert` ran
   * (or was skipped) and its changes are committed.
   */
  evaluated(alert: () => void, resume: () => void): Promise<void>;
}

/** A replica's alerting on the control database (docs/scaling.md#alerts-incidents-and-corrections). */
export function replicatedAlerting(
  db: ControlDatabase,
  lease: EvaluatorLease,
  log: AlertLog,
): ReplicatedAlerting {
  const state = new ControlAlertState(db, () => lease.holderPid(), log);
  /** Whether the copy is the database's since this replica last gained the lease. */
  let loaded = false;
  lease.on('gained', () => {
    loaded = false;
  });
  let turn: Promise<void> = Promise.resolve();
  return {
    stores: {
      episodes: state.episodeStore,
      incidents: state.incidentWriter,
      burns: state.burnStore,
      outbox: state.outbox,
    },
    evaluated(alert, resume) {
      turn = turn
        .then(async () => {
          if (!lease.isHolder()) return;
          if (!loaded) {
            await state.load();
            loaded = true;
            resume();
          } else if (await state.settled()) resume();
          alert();
          await state.settled();
        })
        .catch((error: unknown) =>
          log.error({ err: error }, 'alerting skipped an evaluation: the control database failed'),
        );
      return turn;
    },
  };
}
