// The audit store contract every implementation must keep (memory, file, PostgreSQL): the same
// records, completion merging, filters and newest-first paging with stable tokens.
import type { Test } from 'tap';
import type { AuditRecord, AuditStore } from '../../src/state/audit-store.js';

const A = '2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3';
const B = 'bbbbbbbb-1a3c-4e5f-9a7b-c8d9e0f1a2b3';

export function rec(n: number, over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    changeId: `c${n}`,
    at: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
    actor: 'apikey:test',
    action: 'upsertRule',
    reason: `reason ${n}`,
    dryRun: false,
    tenantId: 'own',
    ruleTenantId: n % 2 ? A : B,
    before: null,
    after: null,
    diff: null,
    correlationId: `corr-${n}`,
    outcome: 'applied',
    verified: true,
    completedAt: null,
    error: null,
    ...over,
  };
}

export async function behavesLikeAStore(t: Test, store: AuditStore) {
  for (let n = 1; n <= 5; n++) await store.record(rec(n));
  await store.begin(rec(6, { outcome: 'applied' }));
  await store.begin(rec(7));
  await store.complete('c7', {
    outcome: 'conflict',
    completedAt: '2026-01-01T00:08:00.000Z',
    verified: false,
    error: 'raced',
  });

  const first = await store.list({ pageSize: 3 });
  t.same(
    first.items.map((r) => r.changeId),
    ['c7', 'c6', 'c5'],
    'newest first',
  );
  t.equal(first.items[0]!.outcome, 'conflict', 'completion merged into its intent');
  t.equal(first.items[0]!.error, 'raced');
  t.equal(first.items[1]!.outcome, 'unknown', 'an intent without completion reads as unknown');
  t.equal(first.items[1]!.completedAt, null);
  t.type(first.continuationToken, 'string');
  const second = await store.list({ pageSize: 3, continuationToken: first.continuationToken! });
  t.same(
    second.items.map((r) => r.changeId),
    ['c4', 'c3', 'c2'],
  );
  const third = await store.list({ pageSize: 3, continuationToken: second.continuationToken! });
  t.same(
    third.items.map((r) => r.changeId),
    ['c1'],
  );
  t.equal(third.continuationToken, null, 'last page has no token');

  t.same(
    (await store.list({ pageSize: 50, tenant: A })).items.map((r) => r.changeId),
    ['c7', 'c5', 'c3', 'c1'],
    'by rule tenant',
  );
  t.same(
    (
      await store.list({ pageSize: 50, from: '2026-01-01T00:02:00.000Z', to: '2026-01-01T00:04:00.000Z' })
    ).items.map((r) => r.changeId),
    ['c4', 'c3', 'c2'],
    'by date, bounds inclusive',
  );
  // Appending after a token was issued does not shift the next page.
  await store.record(rec(8));
  const again = await store.list({ pageSize: 3, continuationToken: first.continuationToken! });
  t.same(
    again.items.map((r) => r.changeId),
    ['c4', 'c3', 'c2'],
    'tokens are stable under appends',
  );
  await t.rejects(store.list({ pageSize: 3, continuationToken: 'garbage!' }), {
    statusCode: 400,
    code: 'InvalidContinuationToken',
  });
}
