// Trigger snapshots: the policy a polling trigger last saw, by revision, so every replica can
// diff the next poll against it.
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql(`
    create table relay_trigger_snapshots (
      revision text primary key,
      saved_at timestamptz not null default now(),
      policy jsonb not null
    );
  `);
}
