import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import t from 'tap';
import { createPostgresAuditStore } from '../../src/state/postgres/audit-store.js';
import { migratedDatabase, replicaPool, startPostgres } from '../helpers/postgres.js';
import { behavesLikeAStore, rec } from './audit-store-contract.js';

const server = await startPostgres();
t.teardown(() => server.stop());

t.test('keeps the audit store contract', async (t) => {
  const url = await migratedDatabase(server);
  await behavesLikeAStore(t, createPostgresAuditStore(replicaPool(t, url)));
});

t.test('two replicas share one trail; a completion from one is seen by the other', async (t) => {
  const url = await migratedDatabase(server);
  const a = createPostgresAuditStore(replicaPool(t, url));
  const b = createPostgresAuditStore(replicaPool(t, url));
  await a.begin(rec(1));
  await b.record(rec(2));
  t.same((await a.list({ pageSize: 10 })).items.map((r) => [r.changeId, r.outcome]), [
    ['c2', 'applied'],
    ['c1', 'unknown'],
  ]);
  await b.complete('c1', {
    outcome: 'applied',
    completedAt: '2026-01-01T00:09:00.000Z',
    verified: true,
    diff: { added: [{ tenantId: 'cccccccc-0000-4000-8000-000000000000' }], removed: [], changed: [] } as never,
  });
  const c1 = (await a.list({ pageSize: 10, tenant: 'CCCCCCCC-0000-4000-8000-000000000000' })).items;
  t.same(c1.map((r) => [r.changeId, r.outcome, r.verified]), [['c1', 'applied', true]], 'found by a tenant its completion diff touches');
});

t.test('filters are served from indexes', async (t) => {
  const url = await migratedDatabase(server);
  const pool = replicaPool(t, url);
  const store = createPostgresAuditStore(pool);
  await Promise.all(Array.from({ length: 300 }, (_, i) => store.record(rec(i, { changeId: `c${i}` }))));
  await pool.query('analyze relay_audit');
  // With sequential scans priced out, a plan that still scans the table would have no index to use.
  const client = await pool.connect();
  try {
    await client.query('set enable_seqscan = off');
    const plan = async (where: string, params: unknown[]) =>
      JSON.stringify((await client.query(`explain (format json) select seq from relay_audit where ${where} order by seq desc limit 11`, params)).rows);
    t.match(await plan('touched_tenants @> array[$1::text]', ['x']), /relay_audit_touched/, 'tenant filter uses the GIN index');
    t.match(await plan('at >= $1 and at <= $2', ['2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z']), /relay_audit_at/, 'date filter uses the at index');
    t.match(await plan('seq < $1', [100]), /relay_audit_pkey/, 'paging uses the primary key');
  } finally {
    client.release();
  }
});

t.test('a replica killed after the intent leaves an "unknown" record', async (t) => {
  const url = await migratedDatabase(server);
  const storeModule = resolve('src/state/postgres/audit-store.ts');
  const code = `
    const pg = (await import('pg')).default;
    const { createPostgresAuditStore } = await import(${JSON.stringify(storeModule)});
    const pool = new pg.Pool({ connectionString: ${JSON.stringify(url)} });
    await createPostgresAuditStore(pool).begin(${JSON.stringify(rec(1))});
    process.stdout.write('intent-written\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((written, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('intent-written') && written());
    child.once('exit', (c) => reject(new Error(`child exited early with ${c}`)));
  });
  child.kill('SIGKILL');
  await exited;
  const items = (await createPostgresAuditStore(replicaPool(t, url)).list({ pageSize: 10 })).items;
  t.same(items.map((r) => [r.changeId, r.outcome, r.completedAt]), [['c1', 'unknown', null]]);
});
