// The shared state of a relay deployment: audit trail, installs in flight, poller leases.
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  // One row per isolation change; seq gives the order pages are served in (newest first).
  pgm.sql(`
    create table relay_audit (
      seq bigint generated always as identity primary key,
      change_id text not null unique,
      at timestamptz not null,
      rule_tenant_id text,
      -- every tenant the change names or touches, for the ?tenant= filter
      touched_tenants text[] not null default '{}',
      record jsonb not null
    );
    create index relay_audit_at on relay_audit (at, seq);
    create index relay_audit_touched on relay_audit using gin (touched_tenants);
  `);
  // At most one install in flight per environment and package (keys lower-cased).
  pgm.sql(`
    create table relay_install (
      environment_key text not null,
      package_key text not null,
      operation_key text not null,
      started_at timestamptz not null,
      record jsonb not null,
      primary key (environment_key, package_key)
    );
    create index relay_install_operation on relay_install (environment_key, operation_key);
  `);
  // Who polls an operation upstream, until when; expired rows are free for the taking.
  pgm.sql(`
    create table relay_lease (
      lease_key text primary key,
      holder text not null,
      expires_at timestamptz not null
    );
  `);
}
