// Entra ID discovery: OpenID configuration by tenant GUID or domain (domain → tenant lookup) and the JWKS.
// The token endpoint is in entra-token.ts.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RouteMeta, SimContext } from './http-common.js';

export const entraMeta = (routeName: RouteMeta['routeName']): { config: RouteMeta } => ({
  config: { routeName, surface: 'entra' },
});

/** What Entra answers for a tenant (GUID or domain) it does not know. */
export function unknownTenant(reply: FastifyReply, tenant: string) {
  return reply.code(400).send({
    error: 'invalid_tenant',
    error_description: `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    error_codes: [90002],
    timestamp: new Date().toISOString(),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  });
}

export function registerEntraDiscovery(app: FastifyInstance, ctx: SimContext) {
  const { state, tokens } = ctx;
  app.get<{ Params: { tenant: string } }>(
    '/:tenant/v2.0/.well-known/openid-configuration',
    entraMeta('entra.discovery'),
    async (request, reply) => {
      const asked = request.params.tenant;
      const generic = ['common', 'organizations', 'consumers'].includes(asked.toLowerCase());
      const tid = generic ? undefined : state.resolveTenant(asked);
      if (!generic && !tid) return unknownTenant(reply, asked);
      const origin = ctx.origin();
      const path = generic ? asked : tid!;
      return {
        token_endpoint: `${origin}/${path}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        jwks_uri: `${origin}/${path}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: generic ? `${origin}/{tenantid}/v2.0` : tokens.issuerFor(tid!),
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${origin}/oidc/userinfo`,
        authorization_endpoint: `${origin}/${path}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${origin}/${path}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${origin}/${path}/oauth2/v2.0/logout`,
        claims_supported: [
          'sub',
          'iss',
          'aud',
          'exp',
          'iat',
          'nbf',
          'tid',
          'oid',
          'upn',
          'name',
          'roles',
          'scp',
        ],
        tenant_region_scope: 'NA',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
      };
    },
  );

  app.get<{ Params: { tenant: string } }>(
    '/:tenant/discovery/v2.0/keys',
    entraMeta('entra.jwks'),
    async (request, reply) => {
      const asked = request.params.tenant;
      if (!['common', 'organizations'].includes(asked.toLowerCase()) && !state.resolveTenant(asked)) {
        return unknownTenant(reply, asked);
      }
      return tokens.jwks();
    },
  );
}
