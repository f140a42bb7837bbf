// The per-tenant isolation write lock across replicas: a transaction-scoped advisory lock, held by
// a transaction kept open for the whole read-modify-write. Transaction-scoped because Azure's
// PgBouncer (transaction pooling) may hand a session-level lock's connection to someone else
// between statements; an open transaction pins its connection, and the server drops the lock the
// moment that connection dies, so a crashed replica never leaves the tenant locked.
//
// Writers on one replica queue in process first, so a replica holds at most one database
// connection per tenant however many writes it has queued: waiters never starve the pool that
// the lock holder needs for its own audit writes.
import type pg from 'pg';
import { RelayError } from '../../errors.js';
import { createInProcessTenantLock, type TenantLock } from '../tenant-lock.js';
import { StateStoreUnavailableError } from './unavailable.js';

export interface PostgresTenantLockOptions {
  /** How long a writer may wait, in process and then for the database lock, before a 503 (ms). */
  maxWaitMs?: number;
  /** The longest a holder may keep the lock while idle in its transaction before the server ends it (ms). */
  maxHoldMs?: number;
}

// Advisory locks share one key space per database; the namespace keeps ours apart from others'.
const NAMESPACE = 'admin-relay:isolation-lock:';
const LOCK_NOT_AVAILABLE = '55P03';

export class PolicyBusyError extends RelayError {
  constructor(waitedMs: number) {
    super(
      503,
      'PolicyBusy',
      `Another replica has been changing the tenant isolation policy for more than ${Math.max(1, Math.round(waitedMs / 1000))} seconds; retry in a minute.`,
      { retryAfter: 30 },
    );
  }
}

/** The holder's connection died before it finished: its change may or may not have landed. */
export class LockLostError extends Error {
  constructor(cause: Error) {
    super(`the isolation lock's database connection was lost before the change finished: ${cause.message}`, {
      cause,
    });
    this.name = 'LockLostError';
  }
}

export function createPostgresTenantLock(pool: pg.Pool, options: PostgresTenantLockOptions = {}): TenantLock {
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const maxHoldMs = options.maxHoldMs ?? 10 * 60_000;
  const local = createInProcessTenantLock({ maxWaitMs });

  const withDatabaseLock = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw new StateStoreUnavailableError(err as Error);
    }
    // A checked-out connection that dies emits 'error'; unheard, it would crash the process. The
    // holder learns of it when it ends its transaction.
    let lost: Error | undefined;
    const onConnectionError = (err: Error) => {
      lost ??= err;
    };
    client.on('error', onConnectionError);
    // Ending the transaction releases the lock; a connection that failed is destroyed, not reused.
    const end = async (how: 'commit' | 'rollback'): Promise<Error | undefined> => {
      let failure: Error | undefined = lost;
      if (!failure) {
        try {
          await client.query(how);
        } catch (err) {
          failure = err as Error;
        }
      }
      client.removeListener('error', onConnectionError);
      client.release(failure);
      return failure;
    };

    let value: T;
    try {
      await client.query('begin').catch((err: Error) => Promise.reject(new StateStoreUnavailableError(err)));
      // SET LOCAL cannot take parameters; both values are integers we computed.
      await client.query(`set local lock_timeout = ${Math.max(1, Math.round(maxWaitMs))}`);
      await client.query(
        `set local idle_in_transaction_session_timeout = ${Math.max(1, Math.round(maxHoldMs))}`,
      );
      try {
        await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [NAMESPACE + key]);
      } catch (err) {
        if ((err as { code?: string }).code === LOCK_NOT_AVAILABLE) throw new PolicyBusyError(maxWaitMs);
        throw new StateStoreUnavailableError(err as Error);
      }
      value = await fn();
    } catch (err) {
      await end('rollback');
      throw err;
    }
    const failure = await end('commit');
    if (failure) throw new LockLostError(failure);
    return value;
  };

  return {
    withLock: (key, fn) => local.withLock(key, () => withDatabaseLock(key.toLowerCase(), fn)),
  };
}
