// The last progress the poller lease holder learned for each operation it follows, so a replica
// that does not poll upstream can answer its own waits and status reads from it.
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql(`
    create table relay_install_progress (
      progress_key text primary key,
      progress jsonb not null,
      updated_at timestamptz not null default clock_timestamp()
    );
    create index relay_install_progress_updated on relay_install_progress (updated_at);
  `);
}
