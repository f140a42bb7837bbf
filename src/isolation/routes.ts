// The six isolation operations: typed reads, one-rule changes, enable/disable, a guarded
// whole-policy replace and the audit trail. Each handler hands the request to IsolationService.
import { z } from 'zod';
import type { Config } from '../config.js';
import { callContext } from '../http/call-context.js';
import { callerLabel } from '../http/caller.js';
import { publicOrigin } from '../http/forwarded-origin.js';
import type { RelayApp } from '../http/relay-app.js';
import type { IsolationService, WriteContext } from './isolation-service.js';
import {
  isolationBodyWriteErrors,
  isolationChangesErrors,
  isolationQueryWriteErrors,
  isolationReadErrors,
} from './route-errors.js';
import { auditRecord, ifRevisionField, policy, reasonField, ruleParams, TAGS, tenantInput, writableDirection, writeAnswer, writeFields } from './schemas.js';
import { field } from '../connector-definition/public.js';

export interface IsolationRouteDeps {
  isolation: IsolationService;
  /** Where the audit trail's next-page link points. */
  config: Pick<Config, 'publicBaseUrl' | 'trustProxy' | 'publicHosts'>;
}

export function registerIsolationRoutes(app: RelayApp, { isolation, config }: IsolationRouteDeps): void {
  // No request-wide deadline: a write may queue behind others for the tenant lock, so each upstream
  // call gets the client's own deadline (UPSTREAM_DEADLINE_SECONDS) when it starts.
  const writeContext = (request: Parameters<typeof callContext>[0] & { caller: Parameters<typeof callerLabel>[0] }): WriteContext => ({
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
          dryRun: z.stringbool({ error: 'must be true or false' }).optional().meta(field('Dry run', 'Only show what would change; write nothing.', { 'x-ms-visibility': 'important' })),
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
          enabled: z.boolean({ error: 'is required: true to enforce isolation, false to turn it off' }).meta(field('Enabled', 'True: block cross-tenant connections except those the rules allow. False: do not enforce.', { 'x-ms-visibility': 'important' })),
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
          enabled: z.boolean({ error: 'is required: true to enforce isolation, false to turn it off' }).meta(field('Enabled', 'Enforce isolation.', { 'x-ms-visibility': 'important' })),
          rules: z
            .array(z.object({ tenant: tenantInput(''), direction: writableDirection }))
            .max(1000)
            .meta(field('Rules', 'Every tenant to allow, each once.', { 'x-ms-visibility': 'important' })),
          confirmRemovals: z.boolean().optional().meta(field('Confirm removals', 'Required (true) when the new list leaves out rules the policy has now: they will be removed.', { 'x-ms-visibility': 'important' })),
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
          pageSize: z.coerce.number().int().min(1).max(200).default(50).meta(field('Page size', 'Changes per page (1-200).', { 'x-ms-visibility': 'advanced' })),
          continuationToken: z.string().max(200).optional().meta(field('Continuation token', 'From the previous page, to get the next one.', { 'x-ms-visibility': 'advanced' })),
          tenant: z.string().trim().max(256).optional().meta(field('Tenant', 'Only changes that name or touch this tenant (tenant id, * or domain).', { 'x-ms-visibility': 'important' })),
          from: z.iso
            .datetime({ offset: true, error: 'must be a date and time such as 2026-01-31T00:00:00Z' })
            .optional()
            .meta(field('From', 'Only changes at or after this time (ISO 8601).')),
          to: z.iso
            .datetime({ offset: true, error: 'must be a date and time such as 2026-01-31T23:59:59Z' })
            .optional()
            .meta(field('To', 'Only changes at or before this time (ISO 8601).')),
        }),
        response: {
          200: z.object({
            value: z
              .array(auditRecord)
              .meta(field('Changes', 'The changes on this page, newest first.')),
            continuationToken: z.string().nullable().meta(field('Continuation token', 'Pass as continuationToken for the next page; null on the last page.')),
            nextLink: z.string().nullable().meta(field('Next page', 'The URL of the next page; null on the last page.', { 'x-ms-visibility': 'internal' })),
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
