// Inbound authentication and authorization for every /v1 route, in one onRequest hook:
// - who is calling (AUTH_MODE: Entra ID bearer JWT, named API key, or anonymous in the local demo),
// - whether that caller holds the permission the route declares (route config `permission`).
// Service endpoints (/healthz, /readyz, /metrics, /docs, /apiDefinition.swagger.json) need nothing.
// A route with config.acceptsWaitToken and a `sig` query parameter is let through as a 'waitToken'
// caller without credentials: that route checks the signature itself (wait-url-token.ts).
import type { FastifyRequest } from 'fastify';
import { type RelayApp, relayPlugin } from './relay-app.js';
import { type Config, PERMISSIONS, type Permission } from '../config.js';
import { API_KEY_HEADER, createApiKeyVerifier } from './api-keys.js';
import type { Caller } from './caller.js';
import { createEntraVerifier, EntraTokenError, type EntraVerifier } from './entra.js';
import { RelayError } from '../errors.js';
import { createFailedAuthBudget, type FailedAuthBudget } from './failed-auth-budget.js';
import { printableAscii } from './printable-text.js';
import { waitSignature } from './wait-signature.js';
import type { RelayMetrics } from './metrics.js';
import { logCallerOn } from './logging.js';

export interface AuthDeps {
  config: Config;
  metrics?: RelayMetrics;
  /** Tests may pass their own verifier; by default one is built from config. */
  entraVerifier?: EntraVerifier;
  /** Charged for every 401; past it the caller gets 429 instead. */
  failedAuthBudget?: FailedAuthBudget;
}

const REALM = 'admin-relay';

const V1 = /^\/v1(\/|$)/i;

/** Whether the request needs credentials. Decided by the route that matched (its pattern and
 *  config), never by the raw URL alone: the router decodes %-escapes, so "/%76%31/..." reaches a
 *  /v1 route while the raw URL does not start with /v1. Unmatched URLs are judged decoded. */
export function isProtectedRequest(request: FastifyRequest): boolean {
  const routeUrl = request.routeOptions.url;
  const cfg = request.routeOptions.config ?? {};
  if (routeUrl !== undefined && !request.is404) {
    return V1.test(routeUrl) || cfg.permission !== undefined || cfg.acceptsWaitToken === true;
  }
  const [raw = ''] = request.url.split('?');
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {}
  return V1.test(raw) || V1.test(decoded.replace(/^\/+/, '/'));
}

// RFC 6750 / 7235 quoted-string: no quotes or backslashes inside.
const quote = (s: string) => `"${s.replace(/["\\]/g, "'")}"`;

function bearerChallenge(config: Config, error?: { code: string; description: string; scope?: string }) {
  const parts = [`Bearer realm=${quote(REALM)}`];
  const tenant = config.entraAllowedTenants[0];
  if (tenant) parts.push(`authorization_uri=${quote(`${config.authorityHost}/${tenant}/oauth2/v2.0/authorize`)}`);
  if (error) {
    parts.push(`error=${quote(error.code)}`, `error_description=${quote(error.description)}`);
    if (error.scope) parts.push(`scope=${quote(error.scope)}`);
  }
  return parts.join(', ');
}

function apiKeyChallenge(description?: string) {
  return [`ApiKey realm=${quote(REALM)}`, `header=${quote('X-API-Key')}`, ...(description ? [`error_description=${quote(description)}`] : [])].join(', ');
}

/**
 * 401 with a challenge. `challengeText` (fixed wording, never anything the caller sent) goes into
 * WWW-Authenticate when credentials were presented; `message`, for the body, may say more.
 */
function unauthorized(config: Config, code: string, message: string, challengeText?: string): RelayError {
  const challenge =
    config.authMode === 'entra'
      ? bearerChallenge(config, challengeText ? { code: 'invalid_token', description: challengeText } : undefined)
      : apiKeyChallenge(challengeText);
  return new RelayError(401, code, message, { headers: { 'www-authenticate': challenge } });
}

function howToGrant(caller: Caller, permission: Permission): string {
  switch (caller.kind) {
    case 'apikey':
      return `Add ${permission} to the permissions of API key "${caller.name}" in API_KEYS (name:sha256:perm+perm), or use a key that has it.`;
    case 'app':
      return `Assign the app role ${permission} of the relay's app registration to the calling application (Entra ID > Enterprise applications > the relay > Users and groups, or API permissions > Application permissions on the caller), then get a new token.`;
    case 'user':
      return `Assign the app role ${permission} to the user (Entra ID > Enterprise applications > the relay > Users and groups), or grant the delegated scope ${permission} to the connector's app registration, then sign in again to get a new token.`;
    default:
      return `Call with credentials that hold ${permission}.`;
  }
}

function bearerTokenOf(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(h);
  return m?.[1];
}

function apiKeyOf(request: FastifyRequest): string | undefined {
  const h = request.headers[API_KEY_HEADER];
  return typeof h === 'string' && h.length > 0 ? h : undefined;
}

/** ENTRA_AUDIENCE; with the simulator and none set, the relay's own app (as the simulator's tokens
 *  for it carry), so AUTH_MODE=entra works in the demo without more settings. */
export function entraAudiences(config: Config): string[] {
  if (config.entraAudience.length > 0 || config.upstream !== 'simulator' || !config.azureClientId) return config.entraAudience;
  return [`api://${config.azureClientId}`, config.azureClientId];
}

export async function registerAuth(app: RelayApp, deps: AuthDeps) {
  const { config, metrics } = deps;
  // loadConfig already refuses DEMO_API_KEY outside simulator mode; a Config built some other way
  // must not open a live relay with it either.
  const apiKeys = createApiKeyVerifier(config.apiKeys, config.upstream === 'simulator' ? config.demoApiKey : undefined);
  const entra =
    config.authMode === 'entra'
      ? (deps.entraVerifier ??
        createEntraVerifier({
          authorityHost: config.authorityHost,
          audiences: entraAudiences(config),
          allowedTenants: config.entraAllowedTenants,
          caFile: config.upstreamCaFile,
        }))
      : undefined;
  if (entra) app.addHook('onClose', async () => entra.close());

  const nobody: Caller = { kind: 'anonymous', id: 'anonymous', name: 'anonymous', permissions: new Set() };
  const everyone: Caller = { kind: 'anonymous', id: 'anonymous', name: 'anonymous', permissions: new Set(PERMISSIONS) };

  /** Counts a refusal and returns the error to throw (thrown at the call site, so TypeScript
   *  narrows what follows). */
  const refusal = (reason: string, err: RelayError): RelayError => {
    metrics?.authRefused(reason);
    return err;
  };

  /** The caller behind the request's credentials, or a RelayError (401/503). undefined: no credentials. */
  async function authenticate(request: FastifyRequest): Promise<Caller | undefined> {
    if (config.authMode === 'none') return everyone;
    if (config.authMode === 'apikey') {
      const key = apiKeyOf(request);
      if (!key) {
        if (bearerTokenOf(request)) {
          throw refusal('wrong_scheme', unauthorized(config, 'InvalidCredentials', 'This relay authenticates with API keys: send the key in the X-API-Key header, not a bearer token.', 'send an API key in X-API-Key'));
        }
        return undefined;
      }
      const match = apiKeys.verify(key);
      if (!match) {
        throw refusal('invalid_key', unauthorized(config, 'InvalidCredentials', 'The API key in X-API-Key is not valid for this relay; check the connection, or ask the relay operator for a key.', 'the API key is not valid'));
      }
      return { kind: 'apikey', id: `key:${match.name}`, name: match.name, permissions: match.permissions };
    }
    const token = bearerTokenOf(request);
    if (!token) {
      if (apiKeyOf(request)) {
        throw refusal('wrong_scheme', unauthorized(config, 'InvalidCredentials', 'This relay authenticates with Entra ID: send an access token as "Authorization: Bearer <token>", not an API key.', 'send an Entra ID access token'));
      }
      return undefined;
    }
    try {
      if (!entra) throw new Error('AUTH_MODE=entra without an Entra verifier');
      const identity = await entra.verify(token);
      return {
        kind: identity.kind,
        id: identity.id,
        name: identity.name,
        tenantId: identity.tenantId,
        permissions: identity.permissions,
        // Kept only when upstream calls go on behalf of the user; never logged (see logging.ts).
        ...(config.upstreamAuth === 'obo' && { bearerToken: token }),
      };
    } catch (err) {
      if (!(err instanceof EntraTokenError)) throw err;
      if (err.unavailable) {
        request.log.warn({ reason: err.reason }, 'could not load Entra ID signing keys');
        throw refusal(err.reason, new RelayError(503, 'AuthenticationUnavailable', err.description, { retryAfter: 5 }));
      }
      throw refusal(`token_${err.reason}`, unauthorized(config, 'InvalidToken', `The bearer token was refused: ${err.description}`, err.challengeDescription));
    }
  }

  async function authorize(request: FastifyRequest) {
    if (!isProtectedRequest(request)) {
      request.caller = nobody;
      return;
    }
    const routeConfig = request.routeOptions.config ?? {};
    const waitTokenAllowed = routeConfig.acceptsWaitToken === true && waitSignature(request.url) !== undefined;

    let caller: Caller | undefined;
    try {
      caller = await authenticate(request);
    } catch (err) {
      // The wait URL is valid on its own: bad or stale connection credentials must not spoil it.
      if (!waitTokenAllowed || (err instanceof RelayError && err.statusCode === 503)) throw err;
    }
    const permission = routeConfig.permission;
    // A signed wait URL authorizes itself: without credentials, or with credentials that lack the
    // route's permission, it is the signature that counts (the route verifies it). A user token is
    // still passed on for on-behalf-of polling, but only from a caller who may read packages: holding
    // a Location URL must not let just anyone make upstream calls as themselves through the relay.
    if (waitTokenAllowed && (!caller || !permission || !caller.permissions.has(permission))) {
      const passOnToken = caller?.bearerToken && caller.permissions.has('packages.read');
      request.caller = {
        kind: 'waitToken',
        id: 'wait-url',
        name: 'signed wait URL',
        permissions: new Set(),
        ...(passOnToken && caller?.bearerToken && { bearerToken: caller.bearerToken }),
      };
      logCallerOn(request.log, { kind: 'waitToken' });
      return;
    }
    if (!caller) {
      const how =
        config.authMode === 'entra'
          ? 'send an Entra ID access token for this relay as "Authorization: Bearer <token>"'
          : 'send an API key in the X-API-Key header';
      throw refusal('missing', unauthorized(config, 'AuthenticationRequired', `This operation needs credentials: ${how}.`));
    }
    request.caller = caller;
    // Who called goes into every later log line of this request (never the token itself).
    const who = { kind: caller.kind, id: caller.id, name: caller.name, ...(caller.tenantId && { tenantId: caller.tenantId }) };
    logCallerOn(request.log, who);
    if (request.is404) return; // unknown /v1 path: only authenticated callers learn that it does not exist

    if (!permission) {
      // Fail closed: a /v1 route that forgot to declare its permission is a bug, not an open door.
      request.log.error({ route: request.routeOptions.url }, 'a /v1 route declares no permission');
      throw new RelayError(500, 'RoutePermissionMissing', 'This operation is not configured with a permission, so the relay refuses it; report this to the relay operator.');
    }
    if (!caller.permissions.has(permission)) {
      // The name comes from the token (upn, appid): quoted as printable ASCII like every token value.
      const who = printableAscii(caller.name);
      const message = `${caller.kind === 'apikey' ? `API key "${who}"` : who} lacks the permission ${permission} that this operation needs. ${howToGrant(caller, permission)}`;
      const headers: Record<string, string> =
        config.authMode === 'entra'
          ? { 'www-authenticate': bearerChallenge(config, { code: 'insufficient_scope', description: `needs ${permission}`, scope: permission }) }
          : {};
      throw refusal('permission', new RelayError(403, 'PermissionDenied', message, { target: permission, headers }));
    }
  }

  /** Every refused authentication (401) is charged to the client address; past its budget the
   *  answer is 429 with Retry-After instead. */
  async function authorizeWithinBudget(request: FastifyRequest) {
    try {
      await authorize(request);
    } catch (err) {
      if (deps.failedAuthBudget && err instanceof RelayError && err.statusCode === 401) {
        const tooMany = await deps.failedAuthBudget.charge(request);
        if (tooMany) throw tooMany;
      }
      throw err;
    }
  }

  app.decorateRequest('caller');
  app.addHook('onRequest', authorizeWithinBudget);
}

/** Who is calling and whether they hold the route's permission; failed sign-ins are charged to a
 *  budget kept in the rate limiter's store, and counted in the metrics. */
export const authPlugin = relayPlugin<Pick<AuthDeps, 'config' | 'entraVerifier'>>(
  async (app, { config, entraVerifier }) => {
    const failedAuthBudget = createFailedAuthBudget(app, {
      perMinute: config.authFailuresPerMinute,
      trustProxy: config.trustProxy,
    });
    await registerAuth(app, { config, metrics: app.metrics, failedAuthBudget, ...(entraVerifier && { entraVerifier }) });
  },
  {
    name: 'relay-auth',
    dependencies: ['relay-error-handler', 'relay-shutdown', 'relay-metrics', 'relay-rate-limit'],
    decorators: { fastify: ['metrics'] },
  },
);
