// Rollouts with STATE_STORE=postgres: the record is shared, and when the replica driving a
// rollout goes away, another replica takes its lease once it runs out and finishes the rollout
// from the record, following the running install instead of POSTing again.
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { createPostgresRolloutStore } from '../../src/state/postgres/rollout-store.js';
import { migratedDatabase, replicaPool, startPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait-for.js';
import { acceptedPosts, FAST_ROLLOUTS, FLEET_PACKAGE, fleetEnvironmentId, startFleet } from '../rollouts/fleet.js';

const server = await startPostgres();
t.teardown(() => server.stop());

t.test('the store: put replaces, list pages newest first, unfinished finds running ones', async (t) => {
  const store = createPostgresRolloutStore(replicaPool(t, await migratedDatabase(server)));
  const doc = (id: string, at: string, status = 'Running') => ({ rolloutId: id, status, createdAt: at, reason: id });
  await store.put(doc('a', '2026-01-01T00:00:00.000Z'));
  await store.put(doc('b', '2026-01-02T00:00:00.000Z'));
  await store.put(doc('a', '2026-01-01T00:00:00.000Z', 'Succeeded'));
  t.equal((await store.get('a'))?.status, 'Succeeded');
  t.equal(await store.get('nope'), undefined);
  const page = await store.list({ skip: 0, top: 1 });
  t.same([page.total, page.items.map((r) => r.rolloutId)], [2, ['b']]);
  t.same((await store.unfinished()).map((r) => r.rolloutId), ['b']);
});

t.test('another replica finishes a rollout when the one driving it goes away', async (t) => {
  const url = await migratedDatabase(server);
  const stack = await startFleet(8, { speed: 5, env: { STATE_STORE: 'postgres', DATABASE_URL: url } });
  t.teardown(() => stack.close());
  const other = await buildApp({ config: stack.config, upstream: stack.upstream, rollouts: FAST_ROLLOUTS });
  t.teardown(() => other.close());
  await other.ready();
  const envs = [1, 4, 8].map(fleetEnvironmentId);
  const res = await stack.request('POST', '/v1/rollouts', { body: { packageUniqueName: FLEET_PACKAGE, environmentIds: envs, maxConcurrent: 1, reason: 'replicas' } });
  t.equal(res.status, 202);
  const id = res.body.rolloutId;
  const get = async () => (await other.inject({ method: 'GET', url: `/v1/rollouts/${id}`, headers: { 'x-api-key': stack.apiKey } })).json();
  await waitFor(async () => (await get()).environments[0].operationId !== null, 'the first replica to start an install (seen by the other)');
  await stack.app.close();
  let r = await get();
  await waitFor(async () => {
    r = await get();
    return r.status !== 'Running';
  }, 'the other replica to finish the rollout', { timeoutMs: 60_000, everyMs: 100 });
  t.equal(r.status, 'Succeeded');
  const posts = acceptedPosts(stack);
  t.same(envs.map((e) => posts.get(e)), [1, 1, 1], 'one POST per environment across both replicas');
  const full = await other.inject({ method: 'GET', url: `/v1/rollouts/${id}`, headers: { 'x-api-key': stack.apiKey } });
  t.equal(full.statusCode, 200);
});
