import t, { type Test } from 'tap';
import { createEmbeddedLeaseStore, type LeaseStore } from '../../src/state/leases.js';
import { createPostgresLeaseStore } from '../../src/state/postgres/leases.js';
import { migratedDatabase, replicaPool, startPostgres } from '../helpers/postgres.js';

/** What every lease store does, whatever keeps it; `expire` makes a lease of ttlMs run out. */
async function behavesLikeALeaseStore(t: Test, a: LeaseStore, b: LeaseStore, expire: () => Promise<void>, ttlMs: number) {
  t.equal(await a.acquire('op-1', 'replica-a', ttlMs), true, 'a free lease is taken');
  t.equal(await b.acquire('op-1', 'replica-b', ttlMs), false, 'a held lease is not');
  t.equal(await a.acquire('op-1', 'replica-a', ttlMs), true, 'taking our own lease again is a renewal');
  t.equal(await b.holder('op-1'), 'replica-a');
  t.equal(await b.renew('op-1', 'replica-b', ttlMs), false, 'only the holder renews');
  t.equal(await a.renew('op-1', 'replica-a', ttlMs), true);
  await b.release('op-1', 'replica-b');
  t.equal(await a.holder('op-1'), 'replica-a', 'only the holder releases');
  await a.release('op-1', 'replica-a');
  t.equal(await b.acquire('op-1', 'replica-b', ttlMs), true, 'a released lease is free at once');

  // replica-b dies holding it: nobody renews, it runs out, replica-a takes over.
  await expire();
  t.equal(await a.holder('op-1'), undefined, 'an expired lease has no holder');
  t.equal(await a.acquire('op-1', 'replica-a', 60_000), true, 'an expired lease is taken over');
  t.equal(await b.renew('op-1', 'replica-b', 60_000), false, 'the old holder learns it lost the lease');
}

t.test('embedded lease store', async (t) => {
  let now = 1_000;
  const store = createEmbeddedLeaseStore({ now: () => now });
  await behavesLikeALeaseStore(t, store, store, async () => {
    now += 1_001;
  }, 1_000);
});

t.test('PostgreSQL lease store: two replicas, expiry by the database clock', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const url = await migratedDatabase(server);
  const a = createPostgresLeaseStore(replicaPool(t, url));
  const b = createPostgresLeaseStore(replicaPool(t, url));
  const ttlMs = 400;
  const expire = async () => {
    const deadline = Date.now() + 20_000;
    while ((await a.holder('op-1')) !== undefined) {
      if (Date.now() > deadline) throw new Error('lease never expired');
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  await behavesLikeALeaseStore(t, a, b, expire, ttlMs);

  // Several replicas racing for one free lease: exactly one wins.
  const racers = Array.from({ length: 6 }, () => createPostgresLeaseStore(replicaPool(t, url, 2)));
  const won = await Promise.all(racers.map((r, i) => r.acquire('op-race', `replica-${i}`, 60_000)));
  t.equal(won.filter(Boolean).length, 1, 'one winner among racing replicas');
});
