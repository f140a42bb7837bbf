// Rollout records: the plan, each environment's row and the rollout's audit events, one row per
// rollout; `status` is kept beside the document so replicas find unfinished rollouts by index.
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql(`
    create table relay_rollouts (
      rollout_id text primary key,
      status text not null,
      created_at timestamptz not null,
      updated_at timestamptz not null default now(),
      record jsonb not null
    );
    create index relay_rollouts_unfinished on relay_rollouts (status) where status = 'Running';
    create index relay_rollouts_created on relay_rollouts (created_at desc);
  `);
}
