import t from 'tap';
import { PACKAGE_STATE_OPERATION_ID } from '../../src/state/install-registry.js';
import type { InstallRecord } from '../../src/state/install-registry.js';
import { PostgresInstallRegistry } from '../../src/state/postgres/install-registry.js';
import { migratedDatabase, replicaPool, startPostgres } from '../helpers/postgres.js';

const server = await startPostgres();
t.teardown(() => server.stop());

const ENV = '3F2E1D0C-9B8A-4776-A554-433221100FFE';
const HOUR = 3_600_000;

const record = (operationId: string, over: Partial<InstallRecord> = {}): InstallRecord => ({
  environmentId: ENV,
  packageUniqueName: 'msdyn_Surveys',
  operationId,
  packageVersion: '1.0.0',
  startedAt: new Date().toISOString(),
  startedBy: 'apikey:test',
  ...over,
});

t.test('concurrent starts on several replicas: exactly one start, everyone gets its operation', async (t) => {
  const url = await migratedDatabase(server);
  const replicas = Array.from(
    { length: 4 },
    () => new PostgresInstallRegistry(replicaPool(t, url, 3), { maxAgeMs: HOUR, now: Date.now }),
  );
  let starts = 0;
  const install = (registry: PostgresInstallRegistry, i: number) =>
    registry.startOnce(
      ENV,
      i % 2 ? 'msdyn_surveys' : 'MSDYN_SURVEYS',
      async () => {
        starts++;
        // The upstream POST takes a while; the others queue behind it meanwhile.
        await new Promise((r) => setTimeout(r, 50));
        const started = record(`op-${starts}`);
        await registry.put(started);
        return { operationId: started.operationId, joined: false };
      },
      (recorded) => ({ operationId: recorded.operationId, joined: true }),
    );
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => install(replicas[i % replicas.length]!, i)),
  );
  t.equal(starts, 1, 'one start across all replicas');
  t.same(new Set(results.map((r) => r.value.operationId)), new Set(['op-1']), 'all on the same operation');
  t.equal(results.filter((r) => r.leader).length, 1, 'one leader');
  t.ok(
    results.filter((r) => r.value.joined).length >= replicas.length - 1,
    'other replicas joined the recorded install',
  );
});

t.test('a failed start lets the next caller start afresh', async (t) => {
  const url = await migratedDatabase(server);
  const a = new PostgresInstallRegistry(replicaPool(t, url), { maxAgeMs: HOUR, now: Date.now });
  const b = new PostgresInstallRegistry(replicaPool(t, url), { maxAgeMs: HOUR, now: Date.now });
  await t.rejects(
    a.startOnce(ENV, 'p', async () => Promise.reject(new Error('upstream said no'))),
    /upstream said no/,
  );
  const after = await b.startOnce(
    ENV,
    'p',
    async () => 'started',
    () => 'joined',
  );
  t.same(after, { value: 'started', leader: true });
});

t.test('one in-flight row per environment and package, visible to every replica', async (t) => {
  const url = await migratedDatabase(server);
  let now = Date.now();
  const a = new PostgresInstallRegistry(replicaPool(t, url), { maxAgeMs: HOUR, now: () => now });
  const b = new PostgresInstallRegistry(replicaPool(t, url), { maxAgeMs: HOUR, now: () => now });
  await a.put(record('OP-1'));
  await b.put(record('op-2'));
  t.equal(
    (await a.get(ENV.toLowerCase(), 'MSDYN_SURVEYS'))?.operationId,
    'op-2',
    'the later install replaced the row',
  );
  t.equal(
    (await a.findByOperation(ENV, 'OP-2'))?.packageUniqueName,
    'msdyn_Surveys',
    'found by operation id, any case',
  );
  t.equal(await a.findByOperation(ENV, 'op-1'), undefined);
  await b.complete(ENV, 'msdyn_Surveys', 'op-1');
  t.ok(await a.get(ENV, 'msdyn_Surveys'), 'completing an older operation leaves the current one');
  await b.complete(ENV, 'msdyn_Surveys', 'op-2');
  t.equal(await a.get(ENV, 'msdyn_Surveys'), undefined, 'gone once completed');

  await a.put(record('op-3', { startedAt: new Date(now).toISOString() }));
  now += HOUR + 1;
  t.equal(await b.get(ENV, 'msdyn_Surveys'), undefined, 'past the install deadline it is ignored');
  const { rows } = await replicaPool(t, url, 1).query('select count(*)::int as n from relay_install');
  t.equal(rows[0].n, 0, 'and removed');
});

t.test(
  'an ended install is recalled on every replica by its operation, with its package and version',
  async (t) => {
    const url = await migratedDatabase(server);
    const a = new PostgresInstallRegistry(replicaPool(t, url), { maxAgeMs: HOUR, now: () => Date.now() });
    const b = new PostgresInstallRegistry(replicaPool(t, url), { maxAgeMs: HOUR, now: () => Date.now() });
    t.equal(await b.recall(ENV, 'op-9'), undefined, 'nothing recalled while it runs');
    await a.put(record('op-9', { packageVersion: '2.1.0' }));
    t.equal(await b.recall(ENV, 'op-9'), undefined, 'still running: not an ended install');
    await a.complete(ENV, 'msdyn_Surveys', 'op-9');
    const recalled = await b.recall(ENV.toLowerCase(), 'OP-9');
    t.equal(recalled?.packageUniqueName, 'msdyn_Surveys');
    t.equal(recalled?.packageVersion, '2.1.0');
    t.equal(
      await b.recall(ENV, 'op-9', 'msdyn_Other'),
      undefined,
      'asked with another package: not this install',
    );

    // Installs followed through the package state share one operation id: the package tells them apart.
    await a.put(
      record(PACKAGE_STATE_OPERATION_ID, { packageUniqueName: 'msdyn_One', packageVersion: '1.0.0' }),
    );
    await a.put(
      record(PACKAGE_STATE_OPERATION_ID, { packageUniqueName: 'msdyn_Two', packageVersion: '3.0.0' }),
    );
    await a.complete(ENV, 'msdyn_One', PACKAGE_STATE_OPERATION_ID);
    await a.complete(ENV, 'msdyn_Two', PACKAGE_STATE_OPERATION_ID);
    t.equal((await b.recall(ENV, PACKAGE_STATE_OPERATION_ID, 'msdyn_Two'))?.packageVersion, '3.0.0');
    t.equal((await b.recall(ENV, PACKAGE_STATE_OPERATION_ID, 'msdyn_One'))?.packageVersion, '1.0.0');
  },
);
