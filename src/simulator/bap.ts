// Longer than most files: the simulated BAP surface in one place, as upstream groups it; this is
// test and demo machinery, never loaded by the relay itself.
// BAP: tenant lookup, environments, and the PowerPlatform.Governance tenant isolation policy with
// stored state, a revision counter (x-simulator-policy-revision header), optional async 202 + Location.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import { sleep } from './clock.js';
import { authenticate, bapError, claim, isAppOnly, type RouteMeta, type SimContext } from './http-common.js';
import { GUID } from './state.js';
import type { SeedEnvironment, SimulatorBehaviour } from './types.js';

const meta = (routeName: RouteMeta['routeName']): { config: RouteMeta } => ({
  config: { routeName, surface: 'bap' },
});

const ISOLATION_PATH = '/providers/PowerPlatform.Governance/v1/tenants/:tenantId/tenantIsolationPolicy';
const ASYNC_PUT_MS = 1000;

/** An environment as BAP's admin endpoints send it. 'captured' follows terraform's captures;
 *  'legacy' keeps the simulator's older shape for tests of tolerant parsing. */
function environmentBody(env: SeedEnvironment, tenantId: string, shape: SimulatorBehaviour['environmentShape']) {
  const dataverse = env.dataverseUrl ?? '';
  const host = dataverse ? new URL(dataverse).hostname : '';
  const org = host.split('.')[0];
  const legacy = shape === 'legacy';
  // The Web API host sits beside the instance host: contoso.crm.dynamics.com → contoso.api.crm.dynamics.com.
  const apiHost = host.replace(/^([^.]+)\./, '$1.api.');
  const scope = legacy ? '' : 'scopes/admin/';
  return {
    id: `/providers/Microsoft.BusinessAppPlatform/${scope}environments/${env.id}`,
    type: `Microsoft.BusinessAppPlatform/${legacy ? '' : 'scopes/'}environments`,
    location: env.location ?? 'unitedstates',
    name: env.id,
    properties: {
      tenantId,
      azureRegion: env.location === 'europe' ? 'westeurope' : 'westus',
      displayName: env.displayName,
      createdTime: '2024-03-01T09:00:00.0000000Z',
      environmentSku: env.environmentSku ?? 'Production',
      isDefault: env.isDefault ?? false,
      provisioningState: 'Succeeded',
      states: {
        management: { id: 'Ready' },
        runtime: { runtimeReasonCode: 'NotSpecified', requestedBy: { displayName: 'SYSTEM', type: 'NotSpecified' }, id: 'Enabled' },
      },
      linkedEnvironmentMetadata: dataverse
        ? {
            resourceId: env.id,
            friendlyName: env.displayName,
            uniqueName: org,
            domainName: org,
            version: '9.2.26011.00150',
            instanceUrl: dataverse,
            instanceApiUrl: legacy ? `${dataverse.replace(/\/$/, '')}/api/data/v9.2` : `https://${apiHost}`,
            baseLanguage: 1033,
            instanceState: 'Ready',
            createdTime: '2024-03-01T09:00:30.000Z',
            backgroundOperationsState: 'Enabled',
            scaleGroup: 'NAMCRMLIVESG101',
            platformSku: 'Standard',
            schemaType: 'Standard',
          }
        : legacy
          ? { instanceUrl: '' }
          : null,
    },
  };
}

/** Validation of a PUT body, in the spirit of upstream: returns [message, details] of the 400, or undefined. */
function invalidPolicy(
  body: unknown,
  pathTenant: string,
): [string, { code: string; message: string }[]] | undefined {
  const detail = (message: string) => [{ code: 'ValidationError', message }];
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return [
      'The request body must be a tenant isolation policy object',
      detail('Send {"properties":{...}}.'),
    ];
  }
  const props = (body as { properties?: unknown }).properties;
  if (!props || typeof props !== 'object' || Array.isArray(props)) {
    return ['The request body must contain a properties object', detail('properties is required.')];
  }
  const p = props as { tenantId?: unknown; isDisabled?: unknown; allowedTenants?: unknown };
  if (p.tenantId !== undefined) {
    if (typeof p.tenantId !== 'string' || !GUID.test(p.tenantId)) {
      return ['Invalid tenant ID format', detail('The tenant ID must be a valid GUID')];
    }
    if (p.tenantId.toLowerCase() !== pathTenant.toLowerCase()) {
      return [
        'Tenant ID in the body does not match the tenant in the path',
        detail('properties.tenantId must equal the path tenant ID.'),
      ];
    }
  }
  if (p.isDisabled !== undefined && typeof p.isDisabled !== 'boolean') {
    return ['isDisabled must be a boolean', detail('properties.isDisabled must be true or false.')];
  }
  if (p.allowedTenants !== undefined && p.allowedTenants !== null) {
    if (!Array.isArray(p.allowedTenants))
      return ['allowedTenants must be an array', detail('properties.allowedTenants must be a list.')];
    for (const rule of p.allowedTenants as Array<{ tenantId?: unknown; direction?: unknown }>) {
      const id = rule?.tenantId;
      if (typeof id !== 'string' || (id !== '*' && !GUID.test(id))) {
        const looksLikeDomain = typeof id === 'string' && id.includes('.');
        return [
          'Invalid tenant ID format',
          detail(
            looksLikeDomain
              ? `The tenant ID must be a valid GUID or '*'; domain names such as '${id}' are not accepted`
              : 'The tenant ID must be a valid GUID',
          ),
        ];
      }
      if (rule.direction !== undefined && (typeof rule.direction !== 'object' || rule.direction === null)) {
        return ['direction must be an object', detail('direction must be {"inbound":bool,"outbound":bool}.')];
      }
    }
  }
  return undefined;
}

export function registerBap(app: FastifyInstance, ctx: SimContext) {
  const { state } = ctx;

  /** Token check plus the management-application registration check for service principals. */
  async function guard(request: FastifyRequest, reply: FastifyReply): Promise<JWTPayload | undefined> {
    const claims = await authenticate(ctx, request, reply, 'bap');
    if (!claims) return undefined;
    const appid = claim(claims, 'appid') || claim(claims, 'azp');
    if (isAppOnly(claims) && !state.behaviour.registeredClientIds.includes(appid)) {
      bapError(
        reply,
        403,
        'Forbidden',
        `The service principal with id '${claim(claims, 'oid')}' for application '${appid}' does not have permission to access the path '${request.url.split('?')[0]}' in tenant '${claim(claims, 'tid')}'.`,
      );
      return undefined;
    }
    return claims;
  }

  /** Path tenant must be a GUID and the caller's own tenant. */
  async function isolationGuard(
    request: FastifyRequest<{ Params: { tenantId: string } }>,
    reply: FastifyReply,
  ) {
    const claims = await guard(request, reply);
    if (!claims) return undefined;
    const { tenantId } = request.params;
    if (!GUID.test(tenantId)) {
      bapError(reply, 400, 'BadRequest', 'Invalid tenant ID format', [
        { code: 'ValidationError', message: 'The tenant ID must be a valid GUID' },
      ]);
      return undefined;
    }
    if (tenantId.toLowerCase() !== claim(claims, 'tid').toLowerCase()) {
      bapError(
        reply,
        403,
        'Forbidden',
        `The caller from tenant '${claim(claims, 'tid')}' cannot access the tenant isolation policy of tenant '${tenantId}'.`,
      );
      return undefined;
    }
    return tenantId.toLowerCase();
  }

  const revisionHeader = (reply: FastifyReply, tenantId: string) =>
    reply.header('x-simulator-policy-revision', String(state.policyRevision(tenantId)));

  app.get('/providers/Microsoft.BusinessAppPlatform/tenant', meta('bap.tenant'), async (request, reply) => {
    const claims = await guard(request, reply);
    if (!claims) return reply;
    return {
      id: '/providers/Microsoft.BusinessAppPlatform/tenant',
      name: 'default',
      type: 'Microsoft.BusinessAppPlatform/tenant',
      tenantId: claim(claims, 'tid'),
      state: 'Enabled',
    };
  });

  const listEnvironments = async (request: FastifyRequest, reply: FastifyReply) => {
    const claims = await guard(request, reply);
    if (!claims) return reply;
    const tid = claim(claims, 'tid').toLowerCase();
    const envs = tid === state.homeTenantId ? state.environments() : [];
    return { value: envs.map((e) => environmentBody(e, state.homeTenantId, state.behaviour.environmentShape)) };
  };
  app.get(
    '/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments',
    meta('bap.environments'),
    listEnvironments,
  );
  app.get(
    '/providers/Microsoft.BusinessAppPlatform/environments',
    meta('bap.environments'),
    listEnvironments,
  );

  const getEnvironment = async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const claims = await guard(request, reply);
    if (!claims) return reply;
    const env = state.environment(request.params.id);
    if (!env || claim(claims, 'tid').toLowerCase() !== state.homeTenantId) {
      return bapError(
        reply,
        404,
        'EnvironmentNotFound',
        `The environment '${request.params.id}' could not be found in the tenant '${claim(claims, 'tid')}'.`,
      );
    }
    return environmentBody(env, state.homeTenantId, state.behaviour.environmentShape);
  };
  app.get(
    '/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/:id',
    meta('bap.environment'),
    getEnvironment,
  );
  app.get(
    '/providers/Microsoft.BusinessAppPlatform/environments/:id',
    meta('bap.environment'),
    getEnvironment,
  );

  app.get<{ Params: { tenantId: string } }>(
    ISOLATION_PATH,
    meta('bap.isolation.get'),
    async (request, reply) => {
      const tenantId = await isolationGuard(request, reply);
      if (!tenantId) return reply;
      const stored = state.getPolicy(tenantId);
      // An outside writer acting in the GET→PUT window: the caller's copy is already stale when it arrives.
      for (const f of state.faults.take('bap.isolation.get', ['outsideWriter']))
        state.outsideWrite(tenantId, f.spec.mutate);
      revisionHeader(reply, tenantId);
      if (stored !== undefined) return reply.code(200).send(stored);
      switch (state.behaviour.neverConfiguredResponse) {
        case 'null':
          return reply.code(200).type('application/json').send('null');
        case 'empty':
          return reply.code(200).type('application/json').send('');
        case 'emptyPolicy':
          return reply.code(200).send({ properties: { isDisabled: false, allowedTenants: [] } });
        default:
          return bapError(
            reply,
            404,
            'TenantIsolationPolicyNotFound',
            `No tenant isolation policy is configured for tenant '${tenantId}'.`,
          );
      }
    },
  );

  app.put<{ Params: { tenantId: string } }>(
    ISOLATION_PATH,
    meta('bap.isolation.put'),
    async (request, reply) => {
      const tenantId = await isolationGuard(request, reply);
      if (!tenantId) return reply;
      const body = request.body;
      const invalid = invalidPolicy(body, tenantId);
      if (invalid) return bapError(reply, 400, 'BadRequest', invalid[0], invalid[1]);
      if (state.behaviour.slowPutMs > 0) await sleep(state.behaviour.slowPutMs);
      const writers = state.faults.take('bap.isolation.put', ['outsideWriter']);
      const putMode = state.behaviour.isolationPut;
      if (putMode !== 'sync') {
        const op = {
          id: randomUUID(),
          tenantId,
          body,
          dueAt: state.clock.now() + ASYNC_PUT_MS,
          polls: 0,
          done: false,
          outsideWriters: writers.map((f) => f.spec.mutate),
        };
        state.isolationOps.set(op.id, op);
        const pollUrl = `${ctx.origin()}${ISOLATION_PATH.replace(':tenantId', tenantId)}/operations/${op.id}`;
        if (putMode === 'async') reply.header('location', pollUrl);
        if (putMode === 'async-operation-location') reply.header('operation-location', pollUrl);
        reply.header('retry-after', '1');
        return reply.code(202).send();
      }
      state.storePolicy(tenantId, body);
      const stored = state.getPolicy(tenantId);
      // The other admin writes right after this PUT, so the caller's read-back shows something moved.
      for (const f of writers) state.outsideWrite(tenantId, f.spec.mutate);
      revisionHeader(reply, tenantId);
      return reply.code(200).send(stored);
    },
  );

  app.get<{ Params: { tenantId: string; operationId: string } }>(
    `${ISOLATION_PATH}/operations/:operationId`,
    meta('bap.isolation.operation'),
    async (request, reply) => {
      const tenantId = await isolationGuard(request, reply);
      if (!tenantId) return reply;
      const op = state.isolationOps.get(request.params.operationId);
      if (!op || op.tenantId !== tenantId) {
        return bapError(
          reply,
          404,
          'OperationNotFound',
          `The operation '${request.params.operationId}' was not found.`,
        );
      }
      op.polls += 1;
      state.settleIsolationOps();
      if (op.polls === 1 || !op.done) {
        reply.header('retry-after', '1');
        return reply.code(202).send({ id: op.id, status: 'Running' });
      }
      return reply.code(200).send({ id: op.id, status: 'Succeeded' });
    },
  );
}
