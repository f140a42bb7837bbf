// Entra ID token endpoint (v2.0): client credentials with a secret or a certificate assertion, and
// on-behalf-of (jwt-bearer). Errors come in the OAuth shape with AADSTS codes like the real service.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { decodeProtectedHeader, importX509, type JWTPayload, jwtVerify } from 'jose';
import { entraMeta, unknownTenant } from './entra.js';
import type { SimContext } from './http-common.js';
import { thumbprints } from './tls.js';
import { TokenProblem } from './tokens.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const OBO_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_LIFETIME_SECONDS = 3599;

/** Entra puts the message, the trace id, the correlation id and the timestamp on separate lines ("\r\n"). */
const SEPARATORS = { crlf: '\r\n', space: ' ' } as const;

export function oauthError(
  reply: FastifyReply,
  status: number,
  error: string,
  aadsts: number,
  text: string,
  separator: keyof typeof SEPARATORS = 'crlf',
) {
  const sep = SEPARATORS[separator];
  const correlationId = randomUUID();
  const traceId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return reply.code(status).send({
    error,
    error_description: `AADSTS${aadsts}: ${text}${sep}Trace ID: ${traceId}${sep}Correlation ID: ${correlationId}${sep}Timestamp: ${timestamp}`,
    error_codes: [aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${aadsts}`,
  });
}

/** `https://x/.default` or `https://x/Some.Scope` → the resource (the token's aud). */
function resourceOf(scopeParam: string | undefined, needsDefault: boolean): string | undefined {
  const ignored = new Set(['openid', 'profile', 'offline_access', 'email']);
  const scopes = (scopeParam ?? '').split(/\s+/).filter((s) => s && !ignored.has(s));
  const scope = scopes[0];
  if (!scope) return undefined;
  if (needsDefault && !scope.endsWith('/.default')) return undefined;
  const resource = scope.endsWith('/.default')
    ? scope.slice(0, -'/.default'.length)
    : scope.replace(/\/[^/]+$/, '');
  if (!resource) return undefined;
  // Entra issues the PowerApps service's tokens with the trailing slash, the Power Platform API's without.
  return resource === 'https://service.powerapps.com' ? 'https://service.powerapps.com/' : resource;
}

function delegatedScopes(resource: string): string {
  if (resource.startsWith('https://api.powerplatform.com')) {
    return 'AppManagement.ApplicationPackages.Install AppManagement.ApplicationPackages.Read';
  }
  return 'user_impersonation';
}

/** A stable object id for the relay app's service principal in a tenant. */
function servicePrincipalId(clientId: string, tenantId: string): string {
  const h = createHash('sha256').update(`${clientId}/${tenantId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function registerEntraToken(app: FastifyInstance, ctx: SimContext, appCertPem: string) {
  const { state, tokens } = ctx;
  const fail = (reply: FastifyReply, status: number, error: string, aadsts: number, text: string) =>
    oauthError(reply, status, error, aadsts, text, state.behaviour.entraErrorSeparator);
  app.post<{ Params: { tenant: string }; Body: Record<string, string> | undefined }>(
    '/:tenant/oauth2/v2.0/token',
    entraMeta('entra.token'),
    async (request, reply) => {
      const asked = request.params.tenant;
      const tid = state.resolveTenant(asked);
      if (!tid) return unknownTenant(reply, asked);
      const body = request.body && typeof request.body === 'object' ? request.body : {};
      const relay = state.seed.relayApp;

      // Client authentication (both grants).
      if (body['client_id'] !== relay.clientId) {
        return fail(
          reply,
          400,
          'unauthorized_client',
          700016,
          `Application with identifier '${body['client_id'] ?? ''}' was not found in the directory '${asked}'.`,
        );
      }
      let appidacr: '1' | '2';
      if (body['client_secret'] !== undefined) {
        if (body['client_secret'] !== relay.clientSecret) {
          return fail(
            reply,
            401,
            'invalid_client',
            7000215,
            `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${relay.clientId}'.`,
          );
        }
        appidacr = '1';
      } else if (body['client_assertion'] !== undefined) {
        if (body['client_assertion_type'] !== ASSERTION_TYPE) {
          return fail(
            reply,
            400,
            'invalid_request',
            50027,
            `client_assertion_type must be '${ASSERTION_TYPE}'.`,
          );
        }
        const problem = await checkClientAssertion(body['client_assertion'], relay.clientId, [
          `${ctx.origin()}/${asked}/oauth2/v2.0/token`,
          `${ctx.origin()}/${tid}/oauth2/v2.0/token`,
        ]);
        if (problem)
          return fail(
            reply,
            401,
            'invalid_client',
            700027,
            `Client assertion failed signature validation. ${problem}`,
          );
        appidacr = '2';
      } else {
        return fail(
          reply,
          401,
          'invalid_client',
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
      }

      const grant = body['grant_type'];
      if (grant === 'client_credentials') {
        const aud = resourceOf(body['scope'], true);
        if (!aud) {
          return fail(
            reply,
            400,
            'invalid_scope',
            1002012,
            `The provided value for scope '${body['scope'] ?? ''}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
          );
        }
        const oid = servicePrincipalId(relay.clientId, tid);
        const claims: JWTPayload = {
          aud,
          iss: tokens.issuerFor(tid),
          tid,
          oid,
          sub: oid,
          appid: relay.clientId,
          azp: relay.clientId,
          appidacr,
          azpacr: appidacr,
          idtyp: 'app',
          roles: [],
        };
        return tokenResponse(await tokens.sign(claims, { expiresInSeconds: TOKEN_LIFETIME_SECONDS }));
      }
      if (grant === OBO_GRANT) {
        if (body['requested_token_use'] !== 'on_behalf_of') {
          return fail(
            reply,
            400,
            'invalid_request',
            900144,
            "The request body must contain the following parameter: 'requested_token_use' with the value 'on_behalf_of'.",
          );
        }
        const aud = resourceOf(body['scope'], false);
        if (!aud)
          return fail(
            reply,
            400,
            'invalid_scope',
            70011,
            `The provided value for scope '${body['scope'] ?? ''}' is not valid.`,
          );
        let user: JWTPayload;
        try {
          user = await tokens.verify(
            body['assertion'] ?? '',
            relay.audiences ?? [relay.clientId, `api://${relay.clientId}`],
          );
        } catch (err) {
          const p = err instanceof TokenProblem ? err : new TokenProblem('invalid_token', String(err));
          const code = p.reason === 'expired' ? 500133 : p.reason === 'wrong_audience' ? 50013 : 50013;
          return fail(reply, 400, 'invalid_grant', code, `Assertion failed validation: ${p.message}`);
        }
        const claims: JWTPayload = {
          aud,
          iss: tokens.issuerFor(String(user['tid'])),
          tid: user['tid'],
          oid: user['oid'],
          sub: String(user['oid']),
          ...(user['upn'] ? { upn: user['upn'], preferred_username: user['upn'] } : {}),
          ...(user['name'] ? { name: user['name'] } : {}),
          appid: relay.clientId,
          azp: relay.clientId,
          appidacr,
          azpacr: appidacr,
          idtyp: 'user',
          scp: delegatedScopes(aud),
        };
        return tokenResponse(await tokens.sign(claims, { expiresInSeconds: TOKEN_LIFETIME_SECONDS }));
      }
      return fail(
        reply,
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grant ?? ''}'.`,
      );
    },
  );

  function tokenResponse(accessToken: string) {
    return {
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_SECONDS,
      ext_expires_in: TOKEN_LIFETIME_SECONDS,
      access_token: accessToken,
    };
  }

  /** Verifies a private_key_jwt client assertion against the relay app's certificate; returns the problem or undefined. */
  async function checkClientAssertion(
    assertion: string,
    clientId: string,
    audiences: string[],
  ): Promise<string | undefined> {
    try {
      const header = decodeProtectedHeader(assertion);
      const alg = header.alg === 'PS256' ? 'PS256' : 'RS256';
      const prints = thumbprints(appCertPem);
      const x5t = header.x5t as string | undefined;
      const x5t256 = header['x5t#S256'] as string | undefined;
      if ((x5t && x5t !== prints.sha1) || (x5t256 && x5t256 !== prints.sha256)) {
        return 'The certificate thumbprint in the assertion header does not match a certificate registered for the app.';
      }
      const key = await importX509(appCertPem, alg);
      const { payload } = await jwtVerify(assertion, key, {
        algorithms: ['RS256', 'PS256'],
        audience: audiences,
        clockTolerance: 5,
      });
      if (payload.iss !== clientId || payload.sub !== clientId)
        return "The assertion's iss and sub must be the client id.";
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }
}
