// The bounded connection pool every PostgreSQL store shares. TLS comes from the URL (sslmode) plus
// an optional CA file; with DATABASE_AUTH=entra each new connection asks the relay's own
// credential for a token, so tokens are always fresh and nothing refreshes them on a timer.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { parse } from 'pg-connection-string';
import type { DatabaseConfig } from '../../config.js';

export interface PoolOptions {
  /** Returns the password for a new connection (Entra tokens); the URL's password otherwise. */
  password?: () => Promise<string>;
  /** Called for errors on idle connections (a terminated backend, a network drop). */
  onIdleError?: (err: Error) => void;
}

/** Connection settings from DATABASE_URL and friends, for a pool or a single dedicated client. */
export function clientConfig(db: DatabaseConfig, options: PoolOptions = {}): pg.ClientConfig {
  // Parsed here rather than passed as connectionString: pg lets the URL's ssl settings replace
  // ours wholesale, and the CA file must be added to whatever sslmode asked for.
  const parsed = parse(db.url);
  // sslmode has been turned into ssl by the parser; pg itself does not read it from a config.
  const { ssl: urlSsl, sslmode: _sslmode, ...rest } = parsed;
  let ssl: pg.ClientConfig['ssl'] =
    urlSsl === null || urlSsl === undefined ? undefined : (urlSsl as pg.ClientConfig['ssl']);
  if (db.caFile) {
    const ca = readFileSync(db.caFile, 'utf8');
    ssl = { ...(typeof ssl === 'object' && ssl ? ssl : {}), ca };
  }
  return {
    ...(rest as pg.ClientConfig),
    port: rest.port ? Number(rest.port) : undefined,
    database: rest.database ?? undefined,
    host: rest.host ?? undefined,
    ssl,
    ...(options.password ? { password: options.password } : {}),
    application_name: 'admin-relay',
    connectionTimeoutMillis: 10_000,
  };
}

export function createPool(db: DatabaseConfig, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(db, options), max: db.poolMax, idleTimeoutMillis: 30_000 });
  // Without a listener an idle connection's error (the server restarting) would crash the process.
  pool.on('error', (err) => options.onIdleError?.(err));
  return pool;
}
