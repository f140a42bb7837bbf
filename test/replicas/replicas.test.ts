// Three relay processes on one PostgreSQL and one simulator, as a deployment with replicas runs:
// concurrent one-rule isolation writes spread over them lose and resurrect nothing; concurrent
// installs of one package make one upstream POST; any replica answers any wait URL; killing the
// poller lease holder mid-install still answers every waiter; the audit trail is complete, in
// order, and outlives every replica.
import pg from 'pg';
import t from 'tap';
import { DEMO_ENVIRONMENTS } from '../../src/simulator/seed.js';
import { startSimulator } from '../../src/simulator/index.js';
import { startPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait-for.js';
import { type Cluster, type Replica, startCluster } from './cluster.js';

const ENV = DEMO_ENVIRONMENTS.sales;
const PACKAGE = 'msdyn_ContosoSurveysAnchor';
const tenantId = (group: number, i: number) => `${String(group).repeat(4)}${String(i).padStart(4, '0')}-1a3c-4e5f-9a7b-c8d9e0f1a2b3`;

// Isolation writes and status polls finish at once; installs are frozen until the test moves time on.
const sim = await startSimulator({ speed: 1000 });
t.teardown(() => sim.close());
const server = await startPostgres();
t.teardown(() => server.stop());
const db = new pg.Client(server.url);
await db.connect();
t.teardown(() => db.end());

let cluster: Cluster = await startCluster(sim, server.url, 3);
t.teardown(() => cluster.close());
const pick = (i: number): Replica => cluster.replicas[i % cluster.replicas.length]!;
const allowedTenants = async () => {
  const policy = await cluster.call(pick(0), 'GET', '/v1/tenant-isolation');
  return new Set(JSON.stringify(policy.body).match(/[0-9]{8}-1a3c-4e5f-9a7b-c8d9e0f1a2b3/g));
};

t.test('3 × 40 concurrent one-rule writes spread over the replicas lose and resurrect nothing', async (t) => {
  const seeded = Array.from({ length: 40 }, (_, i) => tenantId(1, i));
  const seeding = await Promise.all(
    seeded.map((tenant, i) => cluster.call(pick(i), 'PUT', `/v1/tenant-isolation/rules/${tenant}`, { direction: 'Both' })),
  );
  t.same(seeding.map((r) => r.status), seeded.map(() => 200), 'the 40 rules to remove later are in');

  const added = Array.from({ length: 80 }, (_, i) => tenantId(2, i));
  const writes = await Promise.all([
    ...added.map((tenant, i) => cluster.call(pick(i), 'PUT', `/v1/tenant-isolation/rules/${tenant}`, { direction: 'Inbound' })),
    ...seeded.map((tenant, i) => cluster.call(pick(i + 1), 'DELETE', `/v1/tenant-isolation/rules/${tenant}`)),
  ]);
  const failed = writes.filter((w) => w.status !== 200);
  t.same(failed.map((w) => [w.status, w.body?.error?.code]), [], 'all 120 writes answered 200');
  const allowed = await allowedTenants();
  t.same([...allowed].sort(), [...added].sort(), 'exactly the 80 added rules: none lost, no removed one resurrected');
});

t.test('60 concurrent installs of one package spread over the replicas make one upstream POST', async (t) => {
  sim.control.setSpeed(0.0001);
  const calls = await Promise.all(
    Array.from({ length: 60 }, (_, i) => cluster.call(pick(i), 'POST', `/v1/environments/${ENV}/packages/${PACKAGE}/install`)),
  );
  t.same([...new Set(calls.map((c) => c.status))], [202], 'every call answered 202 (running)');
  const operations = new Set(calls.map((c) => c.body.operationId));
  t.equal(operations.size, 1, 'all got the same operation');
  t.equal(sim.control.calls({ route: 'ppapi.install' }).length, 1, 'one upstream POST');

  // A wait URL issued by replica A, asked of B and C (same path and signature, another host).
  const fromA = calls[0]!.headers.location as string;
  const path = fromA.slice(new URL(fromA).origin.length);
  for (const other of [pick(1), pick(2)]) {
    const res = await cluster.call(other, 'GET', path);
    t.equal(res.status, 202, `${other.name} answers A's wait URL`);
    t.equal(res.body.operationId, calls[0]!.body.operationId);
  }

  // Held waits on every replica, then the poller lease holder dies mid-install.
  const operationId = calls[0]!.body.operationId as string;
  await waitFor(async () => (await db.query("select 1 from relay_lease where lease_key like 'install-poller:%'")).rowCount === 1, 'a replica holds the poller lease');
  const { rows } = await db.query<{ holder: string }>("select holder from relay_lease where lease_key like 'install-poller:%'");
  const holderPid = Number(rows[0]!.holder.split(':')[1]);
  const holder = cluster.replicas.find((r) => r.pid === holderPid);
  t.ok(holder, 'the lease names a replica process');
  const survivors = cluster.replicas.filter((r) => r !== holder);
  // An engine whose poll fails (the replica died) polls the same URL again, reaching a live replica.
  const wait = async (i: number) => {
    const first = cluster.replicas[i % 3]!;
    for (const replica of [first, ...survivors]) {
      try {
        const res = await cluster.call(replica, 'GET', `${path}&waitSeconds=60`);
        if (res.status === 200) return res;
      } catch {}
    }
    throw new Error(`waiter ${i} got no answer`);
  };
  const waiters = Array.from({ length: 30 }, (_, i) => wait(i));
  await waitFor(async () => {
    const metrics = await Promise.all(cluster.replicas.map((r) => cluster.call(r, 'GET', '/metrics').catch(() => undefined)));
    return metrics.every((m) => Number(/^relay_active_waits (\d+)/m.exec(String(m?.body))?.[1] ?? 0) >= 10);
  }, 'waits held on every replica');
  await holder!.stop('SIGKILL');
  cluster.replicas.splice(cluster.replicas.indexOf(holder!), 1);
  sim.control.advanceClock(60_000);
  const answers = await Promise.all(waiters);
  t.same(new Set(answers.map((a) => a.body.status)), new Set(['Succeeded']), 'every waiter got the install result');
  t.same(new Set(answers.map((a) => a.body.operationId)), new Set([operationId]));
  const { rows: after } = await db.query<{ holder: string }>("select holder from relay_lease where lease_key like 'install-poller:%'");
  const newHolderPid = Number(after[0]?.holder.split(':')[1]);
  t.ok(survivors.some((r) => r.pid === newHolderPid), 'a surviving replica took the poller lease over');
  sim.control.setSpeed(1000);
});

t.test('the audit trail is complete, in order, and survives restarting every replica', async (t) => {
  const readAll = async (replica: Replica) => {
    const items: Array<{ at: string; outcome: string; ruleTenantId: string }> = [];
    let next: string | null = '/v1/tenant-isolation/changes?pageSize=200';
    while (next) {
      const res = await cluster.call(replica, 'GET', next.startsWith('http') ? next.slice(new URL(next).origin.length) : next);
      t.equal(res.status, 200);
      items.push(...res.body.value);
      next = res.body.nextLink;
    }
    return items;
  };
  const check = async (replica: Replica, when: string) => {
    const items = await readAll(replica);
    t.equal(items.length, 160, `${when}: one record per change (40 + 80 + 40)`);
    t.ok(items.every((c) => c.outcome === 'applied'), `${when}: each completed`);
    const times = items.map((c) => Date.parse(c.at));
    t.ok(times.every((at, i) => i === 0 || at <= times[i - 1]!), `${when}: newest first`);
  };
  await check(pick(0), 'before');
  const { rows } = await db.query<{ n: string }>("select count(*) as n from relay_audit where record->>'outcome' = 'applied'");
  t.equal(Number(rows[0]!.n), 160, 'the database holds the same 160 completed records');
  await Promise.all(cluster.replicas.map((r) => r.stop('SIGTERM')));
  cluster.replicas.length = 0;
  await cluster.close();
  cluster = await startCluster(sim, server.url, 3);
  for (const replica of cluster.replicas) await check(replica, `after the restart, on ${replica.name}`);
});
