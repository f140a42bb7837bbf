// The polling trigger "When the tenant isolation policy changes", as the flow engine runs it: no
// cursor → baseline, 202; same revision → 202; changes → 200 with them. Every answer carries the
// Location of the next poll (with the cursor) and Retry-After (the maker's interval).
import type { Config } from '../config.js';
import { callContext } from '../http/call-context.js';
import { publicOrigin } from '../http/forwarded-origin.js';
import type { RelayApp } from '../http/relay-app.js';
import type { PolicyChangeTrigger } from './policy-change-trigger.js';
import { policyTriggerErrors } from './route-errors.js';
import { TAGS } from './schemas.js';
import { decodeCursor, encodeCursor } from './trigger-cursor.js';
import { policyTriggerQuery, policyTriggerResult } from './trigger-schemas.js';

export const POLICY_TRIGGER_PATH = '/v1/tenant-isolation/trigger/changes';

export interface TriggerRouteDeps {
  trigger: PolicyChangeTrigger;
  ownTenantId: (call: ReturnType<typeof callContext>) => Promise<string>;
  config: Pick<Config, 'publicBaseUrl' | 'trustProxy' | 'publicHosts'>;
}

export function registerTriggerRoutes(app: RelayApp, { trigger, ownTenantId, config }: TriggerRouteDeps): void {
  app.get(
    POLICY_TRIGGER_PATH,
    {
      config: { permission: 'isolation.read' },
      schema: {
        operationId: 'OnIsolationPolicyChanged',
        summary: 'When the tenant isolation policy changes',
        description:
          'Fires when the cross-tenant isolation policy changes, whoever changed it: one item per observed change with its difference, the revisions, and who made it (the relay audit record, or "outside the relay").',
        tags: TAGS,
        'x-ms-trigger': 'batch',
        'x-ms-trigger-hint': 'To see it work, change the tenant isolation policy (here or in the admin center).',
        querystring: policyTriggerQuery,
        response: { 200: policyTriggerResult, 202: policyTriggerResult },
        successes: {
          200: 'The policy changed: the items, and Location for the next check.',
          202: 'Nothing new (or the first check, which records the current policy): check Location again after Retry-After seconds.',
        },
        errors: policyTriggerErrors,
      },
    },
    async (request, reply) => {
      const { pollSeconds, cursor } = request.query;
      const call = callContext(request);
      const polled = await trigger.poll(await ownTenantId(call), cursor ? decodeCursor(cursor) : null, call);
      const next = new URL(`${publicOrigin(request, config)}${POLICY_TRIGGER_PATH}`);
      next.searchParams.set('pollSeconds', String(pollSeconds));
      next.searchParams.set('cursor', encodeCursor(polled.cursor));
      reply.header('location', next.toString()).header('retry-after', String(pollSeconds));
      if (polled.kind !== 'changed') return reply.code(202).send({ value: [] });
      return { value: polled.items };
    },
  );
}
