// Poller leases in PostgreSQL. Expiry is judged by the database's clock, the one clock every
// replica shares, so replicas whose own clocks drift still agree on who holds a lease.
import type pg from 'pg';
import type { LeaseStore } from '../leases.js';

export function createPostgresLeaseStore(pool: pg.Pool): LeaseStore {
  return {
    async acquire(key, holder, ttlMs) {
      const { rowCount } = await pool.query(
        `insert into relay_lease (lease_key, holder, expires_at)
         values ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
         on conflict (lease_key) do update
           set holder = excluded.holder, expires_at = excluded.expires_at
           where relay_lease.expires_at <= clock_timestamp() or relay_lease.holder = excluded.holder`,
        [key, holder, ttlMs],
      );
      return rowCount === 1;
    },
    async renew(key, holder, ttlMs) {
      const { rowCount } = await pool.query(
        `update relay_lease set expires_at = clock_timestamp() + $3 * interval '1 millisecond'
          where lease_key = $1 and holder = $2 and expires_at > clock_timestamp()`,
        [key, holder, ttlMs],
      );
      return rowCount === 1;
    },
    async release(key, holder) {
      await pool.query('delete from relay_lease where lease_key = $1 and holder = $2', [key, holder]);
    },
    async holder(key) {
      const { rows } = await pool.query<{ holder: string }>(
        'select holder from relay_lease where lease_key = $1 and expires_at > clock_timestamp()',
        [key],
      );
      return rows[0]?.holder;
    },
  };
}
