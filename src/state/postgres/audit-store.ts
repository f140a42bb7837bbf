// The isolation audit trail in PostgreSQL, shared by every replica: the same records, filters and
// paging as the file store. Each write is one statement that returns once committed, so a replica
// killed after begin() leaves its intent behind, read as outcome "unknown".
import type pg from 'pg';
import type { PolicyDiff } from '../../isolation/change.js';
import {
  type AuditCompletion,
  type AuditPage,
  type AuditQuery,
  type AuditRecord,
  type AuditStore,
  decodeAuditToken,
  encodeAuditToken,
} from '../audit-store.js';
import { unavailableIfConnectionFailed } from './unavailable.js';

/** The tenants a ?tenant= filter finds a record by: its rule tenant and every tenant in its diff. */
function diffTenants(diff: PolicyDiff | null | undefined): string[] {
  if (!diff) return [];
  return [...diff.added, ...diff.removed, ...diff.changed].map((r) => r.tenantId);
}

const unique = (values: Array<string | null | undefined>) => [
  ...new Set(values.filter((v): v is string => !!v)),
];

export function createPostgresAuditStore(pool: pg.Pool): AuditStore {
  const insert = async (record: AuditRecord) => {
    // A second write with the same change id keeps the first, as the file log's fold does.
    await pool.query(
      `insert into relay_audit (change_id, at, rule_tenant_id, touched_tenants, record)
       values ($1, $2, $3, $4, $5) on conflict (change_id) do nothing`,
      [
        record.changeId,
        record.at,
        record.ruleTenantId,
        unique([record.ruleTenantId, ...diffTenants(record.diff)]),
        JSON.stringify(record),
      ],
    );
  };

  return {
    record: insert,
    begin: (intent) => insert({ ...intent, outcome: 'unknown', completedAt: null }),

    async complete(changeId: string, completion: AuditCompletion) {
      // A completion that brings a diff replaces the intent's, so the tenants it touches follow it.
      const touched = completion.diff === undefined ? null : diffTenants(completion.diff);
      await pool.query(
        `update relay_audit
            set record = record || $2::jsonb,
                touched_tenants = case when $3::text[] is null then touched_tenants
                  else array(select distinct t from unnest(array_remove(array[rule_tenant_id], null) || $3::text[]) t) end
          where change_id = $1`,
        [changeId, JSON.stringify(completion), touched],
      );
    },

    async list(query: AuditQuery): Promise<AuditPage> {
      const below = query.continuationToken ? decodeAuditToken(query.continuationToken) : null;
      const { rows } = await pool
        .query<{ seq: string; record: AuditRecord }>(
          `select seq, record from relay_audit
          where ($1::bigint is null or seq < $1)
            and ($2::timestamptz is null or at >= $2)
            and ($3::timestamptz is null or at <= $3)
            and ($4::text is null or touched_tenants @> array[$4::text])
          order by seq desc
          limit $5`,
          [
            below,
            query.from ?? null,
            query.to ?? null,
            query.tenant?.toLowerCase() ?? null,
            query.pageSize + 1,
          ],
        )
        .catch((err) => Promise.reject(unavailableIfConnectionFailed(err)));
      const page = rows.slice(0, query.pageSize);
      const last = page.at(-1);
      return {
        items: page.map((r) => r.record),
        continuationToken: rows.length > page.length && last ? encodeAuditToken(Number(last.seq)) : null,
      };
    },

    // Every write above has committed by the time its promise resolves.
    async flush() {},
    // The pool belongs to the state stores, which close it once every user is done.
    async close() {},
  };
}
