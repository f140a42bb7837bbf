// Rollout records in PostgreSQL, shared by every replica: one row per rollout, the record as jsonb.
import type pg from 'pg';
import type { RolloutRecordDocument, RolloutStore } from '../rollout-store.js';

export function createPostgresRolloutStore(pool: pg.Pool): RolloutStore {
  return {
    async put(record) {
      await pool.query(
        `insert into relay_rollouts (rollout_id, status, created_at, record) values ($1, $2, $3, $4)
         on conflict (rollout_id) do update set status = excluded.status, record = excluded.record, updated_at = now()`,
        [record.rolloutId, record.status, record.createdAt, JSON.stringify(record)],
      );
    },
    async get(id) {
      const { rows } = await pool.query<{ record: RolloutRecordDocument }>('select record from relay_rollouts where rollout_id = $1', [id]);
      return rows[0]?.record;
    },
    async list(page) {
      const [{ rows }, count] = await Promise.all([
        pool.query<{ record: RolloutRecordDocument }>(
          'select record from relay_rollouts order by created_at desc, rollout_id desc offset $1 limit $2',
          [page.skip, page.top],
        ),
        pool.query<{ n: string }>('select count(*) as n from relay_rollouts'),
      ]);
      return { items: rows.map((r) => r.record), total: Number(count.rows[0]?.n ?? 0) };
    },
    async unfinished() {
      const { rows } = await pool.query<{ record: RolloutRecordDocument }>(
        `select record from relay_rollouts where status = 'Running' order by created_at`,
      );
      return rows.map((r) => r.record);
    },
    async close() {},
  };
}
