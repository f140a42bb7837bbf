import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { createStateStores } from '../../src/state/stores.js';
import { startPostgres } from '../helpers/postgres.js';

t.test('embedded by default: nothing to set up, always ready', async (t) => {
  const stores = await createStateStores(loadConfig({ AUDIT_STORE: 'memory' }));
  t.teardown(() => stores.close());
  t.equal(stores.kind, 'embedded');
  t.same(await stores.checkReady(), { ok: true, detail: 'embedded state' });
  await stores.auditStore.record({
    changeId: 'c1',
    at: new Date().toISOString(),
    actor: 'test',
    action: 'upsertRule',
    reason: null,
    dryRun: false,
    tenantId: 'own',
    ruleTenantId: null,
    before: null,
    after: null,
    diff: null,
    correlationId: 'corr',
    outcome: 'applied',
    verified: true,
    completedAt: null,
    error: null,
  });
  t.equal((await stores.auditStore.list({ pageSize: 5 })).items.length, 1);
});

t.test('postgres: migrates at start, reports readiness, and says when the database is gone', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const config = loadConfig({ STATE_STORE: 'postgres', DATABASE_URL: server.url });
  const started = Date.now();
  const stores = await createStateStores(config);
  t.comment(`createStateStores with migrations: ${Date.now() - started} ms`);
  t.teardown(() => stores.close());
  t.equal(stores.kind, 'postgres');
  t.same(await stores.checkReady(), { ok: true, detail: 'database reachable' });
  t.equal(await stores.leases.acquire('op', 'me', 60_000), true);

  await server.stop();
  const ready = await stores.checkReady();
  t.equal(ready.ok, false);
  t.match(ready.detail, /database unreachable/);
});
