// The trigger snapshot seam: the embedded file store survives a restart (a new instance on the same
// file) and skips a torn line; the PostgreSQL store is shared by replicas. A real server, no mocks.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createPostgresTriggerSnapshots } from '../../src/state/postgres/trigger-snapshots.js';
import { createEmbeddedTriggerSnapshots, createFileTriggerSnapshots } from '../../src/state/trigger-snapshots.js';
import { migratedDatabase, replicaPool, startPostgres } from '../helpers/postgres.js';

const snapshot = (n: number) => ({ enabled: n % 2 === 0, rules: [{ tenantId: `t-${n}` }], revision: `rev-${n}` });

t.test('file store: what one instance saved, a restarted one loads; a torn line is skipped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trigger-snapshots-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'audit.jsonl.trigger-snapshots.jsonl');
  const first = createFileTriggerSnapshots(file);
  await first.save('rev-1', snapshot(1));
  appendFileSync(file, '{"revision":"rev-torn","pol');
  const restarted = createEmbeddedTriggerSnapshots(`file:${join(dir, 'audit.jsonl')}`);
  t.same(await restarted.load('rev-1'), snapshot(1));
  t.equal(await restarted.load('rev-torn'), null);
  await restarted.save('rev-2', snapshot(2));
  t.same(await first.load('rev-2'), snapshot(2), 'another instance on the same file sees it too');
  t.equal(await first.load('rev-unknown'), null);
});

t.test('memory store when the audit trail is in memory', async (t) => {
  const store = createEmbeddedTriggerSnapshots('memory');
  await store.save('rev-3', snapshot(3));
  t.same(await store.load('rev-3'), snapshot(3));
});

t.test('postgres store: saved by one replica, loaded by another; saving twice is harmless', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const url = await migratedDatabase(server);
  const a = createPostgresTriggerSnapshots(replicaPool(t, url));
  const b = createPostgresTriggerSnapshots(replicaPool(t, url));
  await a.save('rev-4', snapshot(4));
  await b.save('rev-4', snapshot(4));
  t.same(await b.load('rev-4'), snapshot(4));
  t.equal(await a.load('rev-none'), null);
});
