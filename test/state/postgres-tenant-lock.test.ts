import t from 'tap';
import { createPostgresTenantLock } from '../../src/state/postgres/tenant-lock.js';
import { migratedDatabase, replicaPool, startPostgres } from '../helpers/postgres.js';

const server = await startPostgres();
t.teardown(() => server.stop());
const url = await migratedDatabase(server);

/** Resolves when check() holds, polling; fails after timeoutMs. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('two replicas: read-modify-write cycles never interleave', async (t) => {
  const replicas = [createPostgresTenantLock(replicaPool(t, url)), createPostgresTenantLock(replicaPool(t, url))];
  let value = 0;
  let inside = 0;
  let overlaps = 0;
  const write = async (i: number) =>
    replicas[i % 2]!.withLock('Tenant-A', async () => {
      inside++;
      if (inside > 1) overlaps++;
      const read = value;
      await new Promise((r) => setImmediate(r));
      value = read + 1;
      inside--;
    });
  await Promise.all(Array.from({ length: 40 }, (_, i) => write(i)));
  t.equal(overlaps, 0, 'never two holders at once');
  t.equal(value, 40, 'no lost update');
});

t.test('different tenants do not wait for each other', async (t) => {
  const a = createPostgresTenantLock(replicaPool(t, url));
  const b = createPostgresTenantLock(replicaPool(t, url));
  let releaseA!: () => void;
  const heldA = a.withLock('tenant-1', () => new Promise<void>((r) => (releaseA = r)));
  await until(async () => releaseA !== undefined, 'A holds tenant-1');
  t.equal(await b.withLock('tenant-2', async () => 'ran'), 'ran');
  releaseA();
  await heldA;
});

t.test('a bounded wait ends in 503 PolicyBusy with Retry-After', async (t) => {
  const holderPool = replicaPool(t, url);
  const holder = createPostgresTenantLock(holderPool);
  const waiter = createPostgresTenantLock(replicaPool(t, url), { maxWaitMs: 300 });
  let release!: () => void;
  let entered = false;
  const held = holder.withLock('tenant-b', () => {
    entered = true;
    return new Promise<void>((r) => (release = r));
  });
  await until(async () => entered, 'the holder is inside');
  await t.rejects(waiter.withLock('tenant-b', async () => 'never'), {
    statusCode: 503,
    code: 'PolicyBusy',
    extra: { retryAfter: 30 },
  });
  release();
  await held;
  t.equal(await waiter.withLock('tenant-b', async () => 'after'), 'after', 'free again once released');
});

t.test('a holder whose connection dies releases the lock', async (t) => {
  const holderPool = replicaPool(t, url);
  const admin = replicaPool(t, url, 1);
  const holder = createPostgresTenantLock(holderPool);
  const other = createPostgresTenantLock(replicaPool(t, url), { maxWaitMs: 20_000 });
  let release!: () => void;
  let entered = false;
  const held = holder.withLock('tenant-c', () => {
    entered = true;
    return new Promise<void>((r) => (release = r));
  });
  await until(async () => entered, 'the holder is inside');
  const waiting = other.withLock('tenant-c', async () => 'took over');
  // The holder's backend is the one waiting for nothing inside a transaction that holds our lock.
  const { rows } = await admin.query(
    "select l.pid from pg_locks l where l.locktype = 'advisory' and l.granted and l.pid <> pg_backend_pid()",
  );
  t.equal(rows.length, 1, 'one backend holds the advisory lock');
  await admin.query('select pg_terminate_backend($1)', [rows[0].pid]);
  t.equal(await waiting, 'took over', 'the other replica gets the lock');
  release();
  await t.rejects(held, 'the dead holder learns its lock was lost when it tries to commit');
});
