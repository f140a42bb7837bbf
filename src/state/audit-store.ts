// The audit trail of isolation policy changes: one record per applied, dry-run, no-op, failed or
// conflicting change. Append-only. A change that reaches upstream is written twice: an intent
// BEFORE the PUT and a completion after it, so a crash in between leaves a record whose outcome
// says "unknown" instead of leaving nothing. Behind an interface so a shared store can replace the
// local file when several replicas run.
import type { IsolationAction, PolicyDiff } from '../isolation/change.js';
import type { IsolationPolicy } from '../isolation/policy.js';
import { RelayError } from '../errors.js';

export type AuditOutcome = 'applied' | 'dryRun' | 'noChange' | 'failed' | 'conflict' | 'unknown';
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = [
  'applied',
  'dryRun',
  'noChange',
  'failed',
  'conflict',
  'unknown',
];

export interface AuditRecord {
  changeId: string;
  /** ISO time the change started. */
  at: string;
  /** Who asked (callerLabel). */
  actor: string;
  action: IsolationAction;
  reason: string | null;
  dryRun: boolean;
  /** The tenant whose policy changed. */
  tenantId: string;
  /** The rule's tenant for one-rule changes; null for enable/replace. */
  ruleTenantId: string | null;
  before: IsolationPolicy | null;
  /** The policy after the change (for an intent: the policy we are about to write). */
  after: IsolationPolicy | null;
  diff: PolicyDiff | null;
  correlationId: string;
  outcome: AuditOutcome;
  verified: boolean | null;
  completedAt: string | null;
  /** What went wrong, for failed and conflict outcomes. */
  error: string | null;
}

/** What the completion of a started change adds to its intent. */
export interface AuditCompletion {
  outcome: Exclude<AuditOutcome, 'unknown' | 'dryRun'>;
  completedAt: string;
  after?: IsolationPolicy | null;
  diff?: PolicyDiff | null;
  verified?: boolean | null;
  error?: string | null;
}

export interface AuditQuery {
  pageSize: number;
  continuationToken?: string;
  /** Only changes that name or touch this rule tenant (lower-case GUID or `*`). */
  tenant?: string;
  /** Inclusive ISO bounds on `at`. */
  from?: string;
  to?: string;
}

export interface AuditPage {
  items: AuditRecord[];
  /** Pass back to get the next (older) page; null on the last page. */
  continuationToken: string | null;
}

export interface AuditStore {
  /** A change that is complete in one step (dry run, no-op, refused before the PUT). */
  record(record: AuditRecord): Promise<void>;
  /** Durably notes a change about to reach upstream; until completed it reads as outcome "unknown". */
  begin(intent: AuditRecord): Promise<void>;
  complete(changeId: string, completion: AuditCompletion): Promise<void>;
  /** Newest first. */
  list(query: AuditQuery): Promise<AuditPage>;
  /** Resolves once every write so far is durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** One line of the append-only log. */
export type AuditLogEntry =
  | { kind: 'intent'; record: AuditRecord }
  | { kind: 'record'; record: AuditRecord }
  | { kind: 'completion'; changeId: string; completion: AuditCompletion };

export function isAuditLogEntry(value: unknown): value is AuditLogEntry {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  if (v.kind === 'intent' || v.kind === 'record') {
    const r = v.record as Record<string, unknown> | undefined;
    return !!r && typeof r.changeId === 'string' && typeof r.at === 'string';
  }
  return (
    v.kind === 'completion' &&
    typeof v.changeId === 'string' &&
    !!v.completion &&
    typeof v.completion === 'object'
  );
}

/** Folds the log into records, each at the position of its first line (its sequence number). */
export function foldAuditLog(
  entries: Iterable<{ seq: number; entry: AuditLogEntry }>,
): Array<{ seq: number; record: AuditRecord }> {
  const byId = new Map<string, { seq: number; record: AuditRecord }>();
  for (const { seq, entry } of entries) {
    if (entry.kind === 'completion') {
      const found = byId.get(entry.changeId);
      if (found) found.record = { ...found.record, ...entry.completion };
      continue;
    }
    if (byId.has(entry.record.changeId)) continue;
    const record =
      entry.kind === 'intent'
        ? { ...entry.record, outcome: 'unknown' as const, completedAt: null }
        : entry.record;
    byId.set(record.changeId, { seq, record });
  }
  return [...byId.values()];
}

const TOKEN_PREFIX = 'before:';

export function encodeAuditToken(seq: number): string {
  return Buffer.from(`${TOKEN_PREFIX}${seq}`).toString('base64url');
}

export function decodeAuditToken(token: string): number {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const seq = text.startsWith(TOKEN_PREFIX) ? Number(text.slice(TOKEN_PREFIX.length)) : Number.NaN;
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new RelayError(
      400,
      'InvalidContinuationToken',
      'The continuation token is not one this relay issued; start again without it and follow continuationToken from each page.',
      { target: 'querystring.continuationToken' },
    );
  }
  return seq;
}

function touchesTenant(record: AuditRecord, tenant: string): boolean {
  if (record.ruleTenantId === tenant) return true;
  const d = record.diff;
  return (
    !!d &&
    (d.added.some((r) => r.tenantId === tenant) ||
      d.removed.some((r) => r.tenantId === tenant) ||
      d.changed.some((c) => c.tenantId === tenant))
  );
}

/** Filters and pages folded records newest first; the token is the position to continue below. */
export function pageAuditRecords(
  records: Array<{ seq: number; record: AuditRecord }>,
  query: AuditQuery,
): AuditPage {
  const below = query.continuationToken ? decodeAuditToken(query.continuationToken) : Number.POSITIVE_INFINITY;
  const from = query.from ? Date.parse(query.from) : Number.NEGATIVE_INFINITY;
  const to = query.to ? Date.parse(query.to) : Number.POSITIVE_INFINITY;
  const tenant = query.tenant?.toLowerCase();
  const matching = records
    .filter(({ seq, record }) => {
      if (seq >= below) return false;
      const at = Date.parse(record.at);
      if (at < from || at > to) return false;
      return tenant === undefined || touchesTenant(record, tenant);
    })
    .sort((a, b) => b.seq - a.seq);
  const page = matching.slice(0, query.pageSize);
  const last = page.at(-1);
  return {
    items: page.map((p) => p.record),
    continuationToken: matching.length > page.length && last ? encodeAuditToken(last.seq) : null,
  };
}
