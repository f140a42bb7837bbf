// Trigger snapshots in PostgreSQL, shared by every replica (see ../trigger-snapshots.ts).
import type pg from 'pg';
import type { TriggerSnapshot, TriggerSnapshotStore } from '../trigger-snapshots.js';
import { unavailableIfConnectionFailed } from './unavailable.js';

export function createPostgresTriggerSnapshots(pool: pg.Pool): TriggerSnapshotStore {
  return {
    async save(revision, policy) {
      await pool
        .query(
          `insert into relay_trigger_snapshots (revision, policy) values ($1, $2) on conflict (revision) do nothing`,
          [revision, JSON.stringify(policy)],
        )
        .catch((err: unknown) => {
          throw unavailableIfConnectionFailed(err);
        });
    },
    async load(revision) {
      const result = await pool
        .query<{ policy: TriggerSnapshot }>(`select policy from relay_trigger_snapshots where revision = $1`, [revision])
        .catch((err: unknown) => {
          throw unavailableIfConnectionFailed(err);
        });
      return result.rows[0]?.policy ?? null;
    },
  };
}
