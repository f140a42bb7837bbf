// Installs in flight, shared by every replica: one row per environment and package (the primary
// key), so whichever replica a flow reaches finds the install another replica started.
//
// Starts are serialised per environment and package across replicas by a transaction-scoped
// advisory lock held while `start` runs (the pre-checks and the upstream POST). The next in line,
// on any replica, then finds the row the first one recorded and joins it, so concurrent
// InstallPackage calls spread over replicas cause one upstream POST.
import type pg from 'pg';
import { RelayError } from '../../errors.js';
import { type InstallRecord, type InstallRegistry, PACKAGE_STATE_OPERATION_ID } from '../install-registry.js';
import { unavailableIfConnectionFailed } from './unavailable.js';

export interface PostgresInstallRegistryOptions {
  /** Records older than this are ignored: the install deadline has passed, upstream state decides. */
  maxAgeMs: number;
  now: () => number;
  /** How long a start may wait for another replica's start of the same package (ms). */
  maxStartWaitMs?: number;
}

const NAMESPACE = 'admin-relay:install-start:';
const LOCK_NOT_AVAILABLE = '55P03';

/** Ended installs are remembered this long for status reads (the in-memory registry keeps the last 10,000). */
const ENDED_KEPT = '7 days';

/** Installs followed through the package state share one operation id, so the package tells them apart. */
const endedPackageKey = (operationId: string, packageUniqueName?: string | null) =>
  operationId === PACKAGE_STATE_OPERATION_ID ? (packageUniqueName ?? '').toLowerCase() : '';

const keysOf = (environmentId: string, packageUniqueName: string) => [
  environmentId.toLowerCase(),
  packageUniqueName.toLowerCase(),
];

export class PostgresInstallRegistry implements InstallRegistry {
  // Callers on this replica join one start in process, so a replica waits on the database lock
  // with one connection per package, not one per caller.
  private readonly starting = new Map<string, Promise<{ value: unknown; leader: boolean }>>();
  private readonly maxStartWaitMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: PostgresInstallRegistryOptions,
  ) {
    this.maxStartWaitMs = options.maxStartWaitMs ?? 120_000;
  }

  /** A query whose connection failure becomes 503 StateStoreUnavailable instead of a 500. */
  private query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values).catch((err) => Promise.reject(unavailableIfConnectionFailed(err)));
  }

  async get(environmentId: string, packageUniqueName: string) {
    const { rows } = await this.query<{ record: InstallRecord }>(
      'select record from relay_install where environment_key = $1 and package_key = $2',
      keysOf(environmentId, packageUniqueName),
    );
    const record = rows[0]?.record;
    if (record && this.options.now() - Date.parse(record.startedAt) > this.options.maxAgeMs) {
      await this.complete(environmentId, packageUniqueName, record.operationId);
      return undefined;
    }
    return record;
  }

  async findByOperation(environmentId: string, operationId: string) {
    const { rows } = await this.query<{ record: InstallRecord }>(
      'select record from relay_install where environment_key = $1 and operation_key = $2 limit 1',
      [environmentId.toLowerCase(), operationId.toLowerCase()],
    );
    return rows[0]?.record;
  }

  async startOnce<T>(
    environmentId: string,
    packageUniqueName: string,
    start: () => Promise<T>,
    joinRecorded?: (record: InstallRecord) => T,
  ): Promise<{ value: T; leader: boolean }> {
    const key = keysOf(environmentId, packageUniqueName).join('\n');
    const running = this.starting.get(key);
    if (running) return { value: (await running).value as T, leader: false };
    const p = this.startAcrossReplicas(environmentId, packageUniqueName, key, start, joinRecorded).finally(
      () => this.starting.delete(key),
    );
    this.starting.set(key, p);
    return p;
  }

  private async startAcrossReplicas<T>(
    environmentId: string,
    packageUniqueName: string,
    key: string,
    start: () => Promise<T>,
    joinRecorded?: (record: InstallRecord) => T,
  ): Promise<{ value: T; leader: boolean }> {
    // The database down: a 503 before anything reaches upstream (no POST without the record).
    const client = await this.pool.connect().catch((err) => Promise.reject(unavailableIfConnectionFailed(err)));
    let lost: Error | undefined;
    const onConnectionError = (err: Error) => {
      lost ??= err;
    };
    client.on('error', onConnectionError);
    try {
      await client.query('begin');
      await client.query(`set local lock_timeout = ${Math.max(1, Math.round(this.maxStartWaitMs))}`);
      try {
        await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [NAMESPACE + key]);
      } catch (err) {
        if ((err as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw err;
        throw new RelayError(
          503,
          'InstallStartBusy',
          `Another replica has been starting this package in this environment for more than ${Math.round(this.maxStartWaitMs / 1000)} seconds; retry shortly to join it.`,
          { retryAfter: 10 },
        );
      }
      if (joinRecorded) {
        const recorded = await this.get(environmentId, packageUniqueName);
        if (recorded) return { value: joinRecorded(recorded), leader: false };
      }
      return { value: await start(), leader: true };
    } finally {
      // Ending the transaction releases the lock for the next replica in line.
      let failure = lost;
      if (!failure) await client.query('commit').catch((err: Error) => (failure = err));
      client.removeListener('error', onConnectionError);
      client.release(failure);
    }
  }

  async put(record: InstallRecord) {
    const [environmentKey, packageKey] = keysOf(record.environmentId, record.packageUniqueName);
    await this.query(
      `insert into relay_install (environment_key, package_key, operation_key, started_at, record)
       values ($1, $2, $3, $4, $5)
       on conflict (environment_key, package_key) do update
         set operation_key = excluded.operation_key, started_at = excluded.started_at, record = excluded.record`,
      [
        environmentKey,
        packageKey,
        record.operationId.toLowerCase(),
        record.startedAt,
        JSON.stringify(record),
      ],
    );
  }

  async complete(environmentId: string, packageUniqueName: string, operationId: string) {
    // Moves the row (only if it still names this operation) to the ended installs in one statement,
    // and drops ended installs past their keeping time on the way.
    await this.query(
      `with ended as (
         delete from relay_install where environment_key = $1 and package_key = $2 and operation_key = $3
         returning environment_key, operation_key, record
       ), pruned as (
         delete from relay_install_ended where ended_at < now() - interval '${ENDED_KEPT}'
       )
       insert into relay_install_ended (environment_key, operation_key, package_key, record)
       select environment_key, operation_key, $4, record from ended
       on conflict (environment_key, operation_key, package_key) do update
         set record = excluded.record, ended_at = excluded.ended_at`,
      [
        ...keysOf(environmentId, packageUniqueName),
        operationId.toLowerCase(),
        endedPackageKey(operationId, packageUniqueName),
      ],
    );
  }

  async recall(environmentId: string, operationId: string, packageUniqueName?: string | null) {
    const { rows } = await this.query<{ record: InstallRecord }>(
      'select record from relay_install_ended where environment_key = $1 and operation_key = $2 and package_key = $3',
      [
        environmentId.toLowerCase(),
        operationId.toLowerCase(),
        endedPackageKey(operationId, packageUniqueName),
      ],
    );
    const record = rows[0]?.record;
    // Asked with another package name than the install had: not this install.
    if (
      record &&
      packageUniqueName &&
      record.packageUniqueName.toLowerCase() !== packageUniqueName.toLowerCase()
    )
      return undefined;
    return record;
  }
}
