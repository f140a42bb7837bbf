// STATE_STORE=postgres through HTTP: isolation writes take the database lock and land in the
// database's audit trail, which another relay on the same database reads.
import pg from 'pg';
import t from 'tap';
import { migratedDatabase, startPostgres } from '../helpers/postgres.js';
import { startStack } from '../helpers/stack.js';

const server = await startPostgres();
t.teardown(() => server.stop());

t.test('isolation changes are serialised and audited in PostgreSQL', async (t) => {
  const url = await migratedDatabase(server);
  const env = { STATE_STORE: 'postgres', DATABASE_URL: url };
  const relay = await startStack({ env });
  t.teardown(() => relay.close());

  const tenants = Array.from({ length: 6 }, (_, i) => `${String(i + 1).repeat(8)}-1a3c-4e5f-9a7b-c8d9e0f1a2b3`);
  const writes = await Promise.all(
    tenants.map((tenant) =>
      relay.request('PUT', `/v1/tenant-isolation/rules/${tenant}`, { body: { direction: 'Inbound', reason: 'partner' } }),
    ),
  );
  t.same(writes.map((w) => w.status), tenants.map(() => 200), 'every write answered 200');
  const policy = await relay.request('GET', '/v1/tenant-isolation');
  const allowed = new Set(JSON.stringify(policy.body).match(/[0-9]{8}-1a3c-4e5f-9a7b-c8d9e0f1a2b3/g));
  t.equal(allowed.size, tenants.length, 'no concurrent write lost another');

  const db = new pg.Client(url);
  await db.connect();
  t.teardown(() => db.end());
  const { rows } = await db.query("select record->>'outcome' as outcome, rule_tenant_id from relay_audit order by seq");
  t.equal(rows.length, tenants.length, 'one audit row per change');
  t.ok(rows.every((r) => r.outcome === 'applied'), 'each completed after its PUT');
  t.same(new Set(rows.map((r) => r.rule_tenant_id)), new Set(tenants));

  // Another relay on the same database (here with its own simulator) reads the same trail.
  const other = await startStack({ env });
  t.teardown(() => other.close());
  const changes = await other.request('GET', `/v1/tenant-isolation/changes?tenant=${tenants[2]}`);
  t.equal(changes.status, 200);
  t.equal(changes.body.value.length, 1, 'filtered by tenant');
  t.equal(changes.body.value[0].ruleTenantId, tenants[2]);
});

t.test('an unreachable database stops the start with a message naming DATABASE_URL', async (t) => {
  await t.rejects(
    startStack({ env: { STATE_STORE: 'postgres', DATABASE_URL: 'postgres://relay@127.0.0.1:1/none' } }),
    /STATE_STORE=postgres: could not prepare the database at DATABASE_URL/,
  );
});

t.test('/readyz reports the database', async (t) => {
  const own = await startPostgres();
  t.teardown(() => own.stop());
  const relay = await startStack({ env: { STATE_STORE: 'postgres', DATABASE_URL: await migratedDatabase(own) } });
  t.teardown(() => relay.close());
  t.equal((await relay.request('GET', '/readyz')).status, 200, 'ready while the database answers');
  await own.stop();
  // Readiness is cached for a few seconds: wait for the next fresh answer.
  const deadline = Date.now() + 30_000;
  let ready = await relay.request('GET', '/readyz');
  while (ready.status === 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    ready = await relay.request('GET', '/readyz');
  }
  t.equal(ready.status, 503, 'not ready once the database is gone');
  t.equal(ready.body.reason, 'state_store_unavailable', 'a reason code only: the database error is in the log');

  const write = await relay.request('PUT', '/v1/tenant-isolation/rules/22222222-1a3c-4e5f-9a7b-c8d9e0f1a2b3', {
    body: { direction: 'Inbound' },
  });
  t.equal(write.status, 503, 'an isolation write without its database is refused');
  t.equal(write.body.error.code, 'StateStoreUnavailable');
  t.equal(write.headers['retry-after'], '5');
  t.equal((await relay.request('GET', '/v1/tenant-isolation')).status, 200, 'reads that need only upstream keep working');
  const changes = await relay.request('GET', '/v1/tenant-isolation/changes');
  t.equal(changes.status, 503, 'the audit trail cannot be read without its database');
  t.equal(changes.body.error.code, 'StateStoreUnavailable');
});
