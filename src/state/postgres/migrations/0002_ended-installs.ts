// Installs that have ended, so a status read on any replica still names the package and version
// (upstream's operation names neither). Keyed like the in-memory registry's recall: by operation,
// plus the package for installs followed through the package state (which share one id).
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql(`
    create table relay_install_ended (
      environment_key text not null,
      operation_key text not null,
      package_key text not null,
      ended_at timestamptz not null default now(),
      record jsonb not null,
      primary key (environment_key, operation_key, package_key)
    );
    create index relay_install_ended_at on relay_install_ended (ended_at);
  `);
}
