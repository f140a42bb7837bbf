// The tenant isolation operations of DESIGN §3: typed reads, one-rule changes, enable/disable, a
// guarded whole-policy replace and the audit trail. The zod schemas here are the single source of
// the connector definition, so every field carries its label and description.
import { z } from 'zod';
import { PATH_VALUE_MAX_LENGTH } from '../path-values.js';
import type { AppDeps, RelayApp } from '../app.js';
import type { Clock } from '../clock.js';
import { callerLabel } from '../http/caller.js';
import type { IsolationChangeOutcome } from '../http/metrics.js';
import type { AuditOutcome } from '../state/audit-store.js';
import { createAuditStore } from '../state/audit-store-factory.js';
import { IsolationService, type WriteContext } from './isolation-service.js';
import { publicOrigin } from '../http/forwarded-origin.js';
import { createInProcessTenantLock } from '../state/tenant-lock.js';
import type { CallContext } from '../upstream/types.js';
import {
  isolationBodyWriteErrors,
  isolationChangesErrors,
  isolationQueryWriteErrors,
  isolationReadErrors,
} from './route-errors.js';

const METRIC_OUTCOME: Record<AuditOutcome, IsolationChangeOutcome> = {
  applied: 'applied',
  dryRun: 'dry_run',
  noChange: 'no_change',
  conflict: 'conflict',
  failed: 'error',
  unknown: 'error',
};

const TAGS = ['Tenant isolation'];

const DIRECTION_LABELS = [
  { value: 'Inbound', displayName: 'Inbound: their users may connect into this tenant' },
  { value: 'Outbound', displayName: 'Outbound: our users may connect out to that tenant' },
  { value: 'Both', displayName: 'Both directions' },
];

const writableDirection = z
  .enum(['Inbound', 'Outbound', 'Both'], {
    error:
      'must be Inbound, Outbound or Both (a rule with no direction grants nothing: remove the rule instead)',
  })
  .meta({
    description: 'Which way connections with the other tenant are allowed.',
    'x-ms-summary': 'Direction',
    'x-ms-visibility': 'important',
    'x-ms-enum-values': DIRECTION_LABELS,
  });

const storedDirection = z.enum(['Inbound', 'Outbound', 'Both', 'None']).meta({
  description:
    'Which way connections are allowed; None for a stored rule with neither flag (it grants nothing).',
  'x-ms-summary': 'Direction',
  'x-ms-enum-values': [...DIRECTION_LABELS, { value: 'None', displayName: 'None (grants nothing)' }],
});

const tenantInput = (where: string) =>
  z
    .string()
    .trim()
    .min(1, { error: 'is required: a tenant id (GUID), * or a domain such as contoso.onmicrosoft.com' })
    .max(PATH_VALUE_MAX_LENGTH)
    .meta({
      description: `The other tenant${where}: its tenant id (GUID), * for all tenants, or a verified domain such as contoso.onmicrosoft.com (resolved to the tenant id).`,
      'x-ms-summary': 'Tenant',
      'x-ms-visibility': 'important',
    });

const rule = z.object({
  tenantId: z.string().meta({
    description: 'The other tenant: a lower-case tenant id (GUID) or * for all tenants.',
    'x-ms-summary': 'Tenant ID',
  }),
  tenantDisplayName: z
    .string()
    .nullable()
    .meta({ description: 'The tenant name upstream stored, if any.', 'x-ms-summary': 'Tenant name' }),
  direction: storedDirection,
  inbound: z.boolean().meta({
    description: "The other tenant's users may connect into this tenant.",
    'x-ms-summary': 'Inbound',
  }),
  outbound: z.boolean().meta({
    description: "This tenant's users may connect out to the other tenant.",
    'x-ms-summary': 'Outbound',
  }),
});

const policy = z.object({
  tenantId: z.string().meta({
    description: 'The tenant this policy belongs to (the relay’s own tenant).',
    'x-ms-summary': 'Policy tenant ID',
  }),
  enabled: z.boolean().meta({
    description: 'Isolation is enforced: cross-tenant connections are blocked unless a rule allows them.',
    'x-ms-summary': 'Enabled',
  }),
  configured: z.boolean().meta({
    description: 'False when the tenant has never stored an isolation policy.',
    'x-ms-summary': 'Configured',
    'x-ms-visibility': 'advanced',
  }),
  rules: z.array(rule).meta({ description: 'The allowed tenants and directions.', 'x-ms-summary': 'Rules' }),
  revision: z.string().meta({
    description:
      'Identifies this version of the policy; pass it as ifRevision to change it only if nobody else did.',
    'x-ms-summary': 'Revision',
  }),
});

const diff = z.object({
  added: z.array(rule).meta({ description: 'Rules that are new.', 'x-ms-summary': 'Added rules' }),
  removed: z.array(rule).meta({ description: 'Rules that are gone.', 'x-ms-summary': 'Removed rules' }),
  changed: z
    .array(
      z.object({
        tenantId: z
          .string()
          .meta({ description: 'The tenant whose rule changed direction.', 'x-ms-summary': 'Tenant ID' }),
        directionBefore: storedDirection,
        directionAfter: storedDirection,
      }),
    )
    .meta({ description: 'Rules whose direction changed.', 'x-ms-summary': 'Changed rules' }),
  enabledBefore: z
    .boolean()
    .meta({ description: 'Whether isolation was enforced before.', 'x-ms-summary': 'Enabled before' }),
  enabledAfter: z
    .boolean()
    .meta({ description: 'Whether isolation is enforced after.', 'x-ms-summary': 'Enabled after' }),
});

const writeAnswer = z.object({
  applied: z.boolean().meta({
    description: 'The change was written upstream (false for dry runs and no-ops).',
    'x-ms-summary': 'Applied',
  }),
  dryRun: z
    .boolean()
    .meta({ description: 'This was a dry run: nothing was written.', 'x-ms-summary': 'Dry run' }),
  changed: z.boolean().meta({
    description: 'The change alters the policy (false: it already said this, so nothing was written).',
    'x-ms-summary': 'Changed',
  }),
  diff: diff.meta({ description: 'What the change adds, removes or alters.', 'x-ms-summary': 'Difference' }),
  policy: policy.meta({
    description: 'The policy after the change (for a dry run: as it would be).',
    'x-ms-summary': 'Policy',
  }),
  revisionBefore: z
    .string()
    .meta({ description: 'The policy revision the change started from.', 'x-ms-summary': 'Revision before' }),
  revisionAfter: z.string().meta({
    description: 'The policy revision now (for a dry run: as it would be).',
    'x-ms-summary': 'Revision after',
  }),
  verified: z.boolean().meta({
    description: 'The policy read back after the write holds the change and nothing of ours moved.',
    'x-ms-summary': 'Verified',
  }),
  changeId: z.string().meta({
    description: 'Identifies this change in the audit trail (ListIsolationChanges).',
    'x-ms-summary': 'Change ID',
  }),
  attempts: z.number().int().meta({
    description: 'Upstream writes it took (more than 1 when another writer interfered).',
    'x-ms-summary': 'Attempts',
    'x-ms-visibility': 'advanced',
  }),
  concurrentChanges: diff.nullable().meta({
    description:
      'What another writer changed while this change ran (kept, not overwritten); null when nobody did.',
    'x-ms-summary': 'Concurrent changes',
    'x-ms-visibility': 'advanced',
  }),
});

const dryRunField = z.boolean().optional().meta({
  description: 'Only show what would change; write nothing.',
  'x-ms-summary': 'Dry run',
  'x-ms-visibility': 'important',
});
const reasonField = z.string().trim().max(1000).optional().meta({
  description: 'Why the change is made; kept in the audit trail.',
  'x-ms-summary': 'Reason',
  'x-ms-visibility': 'important',
});
const ifRevisionField = z.string().trim().max(64).optional().meta({
  description:
    'Change only if the policy is still at this revision (from GetIsolationPolicy); otherwise fail with 412.',
  'x-ms-summary': 'If revision',
  'x-ms-visibility': 'advanced',
});

const writeFields = { dryRun: dryRunField, reason: reasonField, ifRevision: ifRevisionField };

const ruleParams = z.object({ tenant: tenantInput(' whose rule to change') });

const auditRecord = z.object({
  changeId: z.string().meta({ description: 'Identifies the change.', 'x-ms-summary': 'Change ID' }),
  at: z.string().meta({ description: 'When the change started (UTC, ISO 8601).', 'x-ms-summary': 'At' }),
  actor: z.string().meta({ description: 'Who asked for the change.', 'x-ms-summary': 'Actor' }),
  action: z
    .enum(['upsertRule', 'removeRule', 'setEnabled', 'replacePolicy'])
    .meta({ description: 'What kind of change it was.', 'x-ms-summary': 'Action' }),
  reason: z.string().nullable().meta({ description: 'The reason given.', 'x-ms-summary': 'Reason' }),
  dryRun: z.boolean().meta({ description: 'A dry run (nothing written).', 'x-ms-summary': 'Dry run' }),
  tenantId: z
    .string()
    .meta({ description: 'The tenant whose policy it is.', 'x-ms-summary': 'Policy tenant ID' }),
  ruleTenantId: z
    .string()
    .nullable()
    .meta({ description: 'The rule tenant a one-rule change named.', 'x-ms-summary': 'Rule tenant ID' }),
  before: policy.nullable().meta({ description: 'The policy before.', 'x-ms-summary': 'Before' }),
  after: policy.nullable().meta({
    description: 'The policy after (as read back, or as planned when the outcome is unknown).',
    'x-ms-summary': 'After',
  }),
  diff: diff
    .nullable()
    .meta({ description: 'What the change adds, removes or alters.', 'x-ms-summary': 'Difference' }),
  correlationId: z.string().meta({
    description: 'The request correlation id (also sent upstream).',
    'x-ms-summary': 'Correlation ID',
  }),
  outcome: z.enum(['applied', 'dryRun', 'noChange', 'failed', 'conflict', 'unknown']).meta({
    description:
      'applied, dryRun, noChange, failed, conflict, or unknown (the relay stopped between announcing and finishing the write: read the policy).',
    'x-ms-summary': 'Outcome',
  }),
  verified: z
    .boolean()
    .nullable()
    .meta({ description: 'The read-back check passed.', 'x-ms-summary': 'Verified' }),
  completedAt: z
    .string()
    .nullable()
    .meta({ description: 'When the change finished (UTC).', 'x-ms-summary': 'Completed at' }),
  error: z
    .string()
    .nullable()
    .meta({ description: 'What went wrong, for failed and conflict outcomes.', 'x-ms-summary': 'Error' }),
});

/** Builds the isolation service from the app's collaborators (audit store from deps or
 *  config.auditStore, the per-tenant lock) and registers the six operations. */
export async function registerIsolationRoutes(app: RelayApp, deps: AppDeps & { clock: Clock }) {
  const { config } = deps;
  const auditStore =
    deps.auditStore ??
    createAuditStore(config.auditStore, {
      onBadLine: (line, reason) =>
        app.log.warn({ line, auditStore: config.auditStore }, `audit store: skipped line ${line}: ${reason}`),
    });
  // Closed last, after in-flight requests finished their writes.
  app.addHook('onClose', async () => auditStore.close());
  const isolation = new IsolationService({
    isolation: deps.upstream.isolation,
    tenant: deps.upstream.tenant,
    tenantDiscovery: deps.upstream.tenantDiscovery,
    auditStore,
    lock: deps.tenantLock ?? createInProcessTenantLock(),
    clock: deps.clock,
    onOutcome: (_action, outcome) => app.metrics?.isolationChanged(METRIC_OUTCOME[outcome]),
    onAuditError: (err, changeId) =>
      app.log.error(
        { err, changeId },
        'audit store: a record could not be written (a missing completion reads as outcome unknown)',
      ),
  });
  // No request-wide deadline: a write may queue behind others for the tenant lock, so each upstream
  // call gets the client's own deadline (UPSTREAM_DEADLINE_SECONDS) when it starts.
  const callContext = (request: { id: unknown; caller: { bearerToken?: string } }): CallContext => ({
    correlationId: String(request.id),
    ...(request.caller.bearerToken ? { userAssertion: request.caller.bearerToken } : {}),
  });
  const writeContext = (
    request: Parameters<typeof callContext>[0] & { caller: Parameters<typeof callerLabel>[0] },
  ): WriteContext => ({
    call: callContext(request),
    actor: callerLabel(request.caller),
  });

  app.get(
    '/v1/tenant-isolation',
    {
      config: { permission: 'isolation.read' },
      schema: {
        operationId: 'GetIsolationPolicy',
        summary: 'Get the tenant isolation policy',
        description:
          'Reads the cross-tenant isolation policy: whether it is enforced, the allowed tenants with their directions, and its revision.',
        tags: TAGS,
        response: { 200: policy },
        errors: isolationReadErrors,
      },
    },
    async (request) => isolation.getPolicy(callContext(request)),
  );

  app.put(
    '/v1/tenant-isolation/rules/:tenant',
    {
      config: { permission: 'isolation.write' },
      schema: {
        operationId: 'UpsertIsolationRule',
        summary: 'Add or update a tenant rule',
        description:
          'Allows one other tenant in the given direction, leaving every other rule as it is. Reads the policy, changes only this rule, writes it back and checks the result; nothing is written when the rule already says this.',
        tags: TAGS,
        params: ruleParams,
        body: z.object({ direction: writableDirection, ...writeFields }),
        response: { 200: writeAnswer },
        errors: isolationBodyWriteErrors,
      },
    },
    async (request) => {
      const { direction, ...options } = request.body;
      return isolation.upsertRule(
        { tenant: request.params.tenant, direction },
        options,
        writeContext(request),
      );
    },
  );

  app.delete(
    '/v1/tenant-isolation/rules/:tenant',
    {
      config: { permission: 'isolation.write' },
      schema: {
        operationId: 'RemoveIsolationRule',
        summary: 'Remove a tenant rule',
        description:
          'Removes the rule for one other tenant, leaving every other rule as it is. Nothing is written when there is no such rule.',
        tags: TAGS,
        params: ruleParams,
        querystring: z.object({
          dryRun: z.stringbool({ error: 'must be true or false' }).optional().meta({
            description: 'Only show what would change; write nothing.',
            'x-ms-summary': 'Dry run',
            'x-ms-visibility': 'important',
          }),
          reason: reasonField,
          ifRevision: ifRevisionField,
        }),
        response: { 200: writeAnswer },
        errors: isolationQueryWriteErrors,
      },
    },
    async (request) => isolation.removeRule(request.params.tenant, request.query, writeContext(request)),
  );

  app.put(
    '/v1/tenant-isolation/enabled',
    {
      config: { permission: 'isolation.write' },
      schema: {
        operationId: 'SetIsolationEnabled',
        summary: 'Turn tenant isolation on or off',
        description:
          'Turns enforcement of the isolation policy on or off; the rules stay as they are. Changes take about an hour to reach running apps and flows.',
        tags: TAGS,
        body: z.object({
          enabled: z.boolean({ error: 'is required: true to enforce isolation, false to turn it off' }).meta({
            description:
              'True: block cross-tenant connections except those the rules allow. False: do not enforce.',
            'x-ms-summary': 'Enabled',
            'x-ms-visibility': 'important',
          }),
          ...writeFields,
        }),
        response: { 200: writeAnswer },
        errors: isolationBodyWriteErrors,
      },
    },
    async (request) => {
      const { enabled, ...options } = request.body;
      return isolation.setEnabled(enabled, options, writeContext(request));
    },
  );

  app.put(
    '/v1/tenant-isolation',
    {
      config: { permission: 'isolation.write' },
      schema: {
        operationId: 'ReplaceIsolationPolicy',
        summary: 'Replace the whole isolation policy',
        description:
          'Sets enforcement and the complete list of allowed tenants. Rules not in the list are removed, which needs confirmRemovals; without it the answer (409) lists what would be removed and nothing changes.',
        tags: TAGS,
        body: z.object({
          enabled: z.boolean({ error: 'is required: true to enforce isolation, false to turn it off' }).meta({
            description: 'Enforce isolation.',
            'x-ms-summary': 'Enabled',
            'x-ms-visibility': 'important',
          }),
          rules: z
            .array(z.object({ tenant: tenantInput(''), direction: writableDirection }))
            .max(1000)
            .meta({
              description: 'Every tenant to allow, each once.',
              'x-ms-summary': 'Rules',
              'x-ms-visibility': 'important',
            }),
          confirmRemovals: z.boolean().optional().meta({
            description:
              'Required (true) when the new list leaves out rules the policy has now: they will be removed.',
            'x-ms-summary': 'Confirm removals',
            'x-ms-visibility': 'important',
          }),
          ...writeFields,
        }),
        response: { 200: writeAnswer },
        errors: isolationBodyWriteErrors,
      },
    },
    async (request) => {
      const { enabled, rules, ...options } = request.body;
      return isolation.replacePolicy({ enabled, rules }, options, writeContext(request));
    },
  );

  app.get(
    '/v1/tenant-isolation/changes',
    {
      config: { permission: 'isolation.read' },
      schema: {
        operationId: 'ListIsolationChanges',
        summary: 'List isolation policy changes',
        description:
          'The audit trail of isolation policy changes made through this relay, newest first, one page at a time.',
        tags: TAGS,
        // Power Automate's pagination follows nextLink (through the connector's updatenextlink policy).
        'x-ms-pageable': { nextLinkName: 'nextLink' },
        errors: isolationChangesErrors,
        querystring: z.object({
          pageSize: z.coerce.number().int().min(1).max(200).default(50).meta({
            description: 'Changes per page (1-200).',
            'x-ms-summary': 'Page size',
            'x-ms-visibility': 'advanced',
          }),
          continuationToken: z.string().max(200).optional().meta({
            description: 'From the previous page, to get the next one.',
            'x-ms-summary': 'Continuation token',
            'x-ms-visibility': 'advanced',
          }),
          tenant: z.string().trim().max(256).optional().meta({
            description: 'Only changes that name or touch this tenant (tenant id, * or domain).',
            'x-ms-summary': 'Tenant',
            'x-ms-visibility': 'important',
          }),
          from: z.iso
            .datetime({ offset: true, error: 'must be a date and time such as 2026-01-31T00:00:00Z' })
            .optional()
            .meta({ description: 'Only changes at or after this time (ISO 8601).', 'x-ms-summary': 'From' }),
          to: z.iso
            .datetime({ offset: true, error: 'must be a date and time such as 2026-01-31T23:59:59Z' })
            .optional()
            .meta({ description: 'Only changes at or before this time (ISO 8601).', 'x-ms-summary': 'To' }),
        }),
        response: {
          200: z.object({
            value: z
              .array(auditRecord)
              .meta({ description: 'The changes on this page, newest first.', 'x-ms-summary': 'Changes' }),
            continuationToken: z.string().nullable().meta({
              description: 'Pass as continuationToken for the next page; null on the last page.',
              'x-ms-summary': 'Continuation token',
            }),
            nextLink: z.string().nullable().meta({
              description: 'The URL of the next page; null on the last page.',
              'x-ms-summary': 'Next page',
              'x-ms-visibility': 'internal',
            }),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const tenant = q.tenant
        ? await isolation.resolveTenant(q.tenant, 'querystring.tenant', callContext(request))
        : undefined;
      const page = await isolation.listChanges({
        pageSize: q.pageSize,
        ...(q.continuationToken ? { continuationToken: q.continuationToken } : {}),
        ...(tenant ? { tenant } : {}),
        ...(q.from ? { from: q.from } : {}),
        ...(q.to ? { to: q.to } : {}),
      });
      let nextLink: string | null = null;
      if (page.continuationToken) {
        // Absolute on the public base URL (or the trusted forwarded host), as Location is: the
        // flow engine follows it as given.
        const next = new URL(`${publicOrigin(request, config)}/v1/tenant-isolation/changes`);
        for (const [k, v] of Object.entries({ ...q, continuationToken: page.continuationToken })) {
          if (v !== undefined) next.searchParams.set(k, String(v));
        }
        nextLink = next.toString();
      }
      return { value: page.items, continuationToken: page.continuationToken, nextLink };
    },
  );
}
