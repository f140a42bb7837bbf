// Access tokens for the two upstream surfaces, through @azure/identity. Which credential is used
// follows config: on-behalf-of the connector user (UPSTREAM_AUTH=obo), managed identity, workload
// identity (federated token file), certificate, or client secret. Tokens are reused until five
// minutes before they expire (identity caches too, but we want one fetch per scope, not one per
// request, and concurrent callers share one fetch).
import { createHash } from 'node:crypto';
import {
  type AccessToken,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  OnBehalfOfCredential,
  type TokenCredential,
  type TokenCredentialOptions,
  WorkloadIdentityCredential,
} from '@azure/identity';
import type { Config } from '../config.js';
import { entraErrorSentence, parseEntraError } from './entra-error.js';
import { UpstreamError } from './errors.js';
import { isKnownAuthorityHost, type UpstreamScopes } from './scopes.js';
import type { CallContext, UpstreamObserver } from './types.js';

export type TokenSurface = 'ppapi' | 'bap';

export interface TokenProvider {
  /** A bearer token for the surface; cached, refreshed 5 minutes before expiry. */
  getToken(surface: TokenSurface, ctx: CallContext): Promise<string>;
  /** The cached token when there is a fresh one, without a promise (the common case on every call). */
  cachedToken?(surface: TokenSurface, ctx: CallContext): string | undefined;
  /** Forget the cached token (upstream answered 401 with it). */
  invalidate(surface: TokenSurface, ctx: CallContext): void;
  /** Which credential kind is configured, for messages. */
  readonly credentialName: string;
}

const REFRESH_MARGIN_MS = 5 * 60_000;
/** OBO tokens are cached per user only briefly: the user's own token may be revoked. */
const OBO_MAX_CACHE_MS = 10 * 60_000;
const OBO_MAX_ENTRIES = 1_000;

interface CachedToken {
  token: string;
  reuseUntil: number;
}

type CredentialFactory = (userAssertion?: string) => TokenCredential;

export interface TokenProviderOptions {
  httpClient?: TokenCredentialOptions['httpClient'];
  scopes: UpstreamScopes;
  /** Wall-clock source for expiry checks (token expiry is wall time, not the test clock). */
  now?: () => number;
  observer?: UpstreamObserver;
}

export function createTokenProvider(config: Config, opts: TokenProviderOptions): TokenProvider {
  const { factory, name, perUser } = credentialFactory(config, opts.httpClient);
  const now = opts.now ?? Date.now;
  const cache = new Map<string, CachedToken>();
  const inflight = new Map<string, Promise<string>>();
  // identity keeps its own MSAL cache per credential instance; after a 401 we replace the instance
  // so the next token really comes from Entra instead of that cache.
  let appCredential = perUser ? undefined : factory();

  function cacheKey(surface: TokenSurface, ctx: CallContext): string {
    if (!perUser) return surface;
    if (!ctx.userAssertion) {
      opts.observer?.tokenFailure({ scope: opts.scopes[surface], reason: 'no_user_token' });
      throw new UpstreamError(
        'entra',
        'token',
        `UPSTREAM_AUTH=obo needs the caller's own Entra token to call upstream on their behalf, and this request had none; sign in through the connector (AUTH_MODE=entra) or use UPSTREAM_AUTH=app.`,
      );
    }
    return `${surface}:${createHash('sha256').update(ctx.userAssertion).digest('base64url')}`;
  }

  async function fetchToken(surface: TokenSurface, ctx: CallContext, key: string): Promise<string> {
    const credential = appCredential ?? factory(ctx.userAssertion);
    const scope = opts.scopes[surface];
    let token: AccessToken | null;
    try {
      token = await credential.getToken(scope, { abortSignal: ctx.signal });
    } catch (err) {
      opts.observer?.tokenFailure({ scope, reason: perUser ? 'obo' : 'credential' });
      // MSAL remembers a 429/5xx from the token endpoint and refuses every getToken on that
      // credential instance for 60 s without asking Entra again; a fresh instance lets the next
      // request get a token as soon as the endpoint is back.
      if (!perUser) appCredential = factory();
      throw tokenError(name, scope, err);
    }
    if (!token?.token) throw tokenError(name, scope, new Error('the credential returned no token'));
    const expires = token.expiresOnTimestamp;
    let reuseUntil = Math.max(now(), expires - REFRESH_MARGIN_MS);
    // A token that lives less than the margin would never be reused; keep it for half its life.
    if (expires - now() <= REFRESH_MARGIN_MS) reuseUntil = now() + Math.max(0, (expires - now()) / 2);
    if (perUser) {
      reuseUntil = Math.min(reuseUntil, now() + OBO_MAX_CACHE_MS);
      if (cache.size >= OBO_MAX_ENTRIES) evictExpired();
      if (cache.size >= OBO_MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    }
    cache.set(key, { token: token.token, reuseUntil });
    return token.token;
  }

  function evictExpired() {
    const t = now();
    for (const [k, v] of cache) if (v.reuseUntil <= t) cache.delete(k);
  }

  return {
    credentialName: name,
    async getToken(surface, ctx) {
      const key = cacheKey(surface, ctx);
      const hit = cache.get(key);
      if (hit && hit.reuseUntil > now()) return hit.token;
      let pending = inflight.get(key);
      if (!pending) {
        pending = fetchToken(surface, ctx, key).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      return pending;
    },
    cachedToken(surface, ctx) {
      if (perUser && !ctx.userAssertion) return undefined;
      const hit = cache.get(cacheKey(surface, ctx));
      return hit && hit.reuseUntil > now() ? hit.token : undefined;
    },
    invalidate(surface, ctx) {
      try {
        cache.delete(cacheKey(surface, ctx));
        if (appCredential) appCredential = factory();
      } catch {
        // no user assertion: nothing cached for it
      }
    },
  };
}

function tokenError(credentialName: string, scope: string, err: unknown): UpstreamError {
  const e = err as { message?: string; errorResponse?: { error?: string; errorDescription?: string; traceId?: string; correlationId?: string; timestamp?: string } };
  const said = e.errorResponse?.errorDescription ?? e.message ?? String(err);
  // The AADSTS code, the trace id and the correlation id are what Microsoft support asks for.
  const details = parseEntraError(said, {
    error: e.errorResponse?.error,
    trace_id: e.errorResponse?.traceId,
    correlation_id: e.errorResponse?.correlationId,
    timestamp: e.errorResponse?.timestamp,
  });
  return new UpstreamError(
    'entra',
    'token',
    `Could not get an access token for ${scope} with the ${credentialName}. Entra ID said: ${entraErrorSentence(details, said.split(/\r?\n|\r/)[0] ?? said)}`,
    {
      ...(details.error ? { code: details.error } : {}),
      upstreamMessage: details.message ?? said,
      ...(details.correlationId ? { correlationId: details.correlationId } : {}),
      ...(Object.keys(details).length ? { extra: details } : {}),
    },
  );
}

function credentialFactory(
  config: Config,
  httpClient: TokenCredentialOptions['httpClient'],
): { factory: CredentialFactory; name: string; perUser: boolean } {
  const common = {
    authorityHost: config.authorityHost,
    disableInstanceDiscovery: !isKnownAuthorityHost(config.authorityHost),
    ...(httpClient ? { httpClient } : {}),
  };
  const tenantId = config.azureTenantId;
  const clientId = config.azureClientId;
  const need = (what: string, value: string | undefined): string => {
    if (!value) throw new Error(`${what} is required for the configured upstream credential`);
    return value;
  };

  if (config.upstreamAuth === 'obo') {
    const t = need('AZURE_TENANT_ID', tenantId);
    const c = need('AZURE_CLIENT_ID', clientId);
    if (config.azureClientCertificatePath) {
      const certificatePath = config.azureClientCertificatePath;
      return {
        name: 'on-behalf-of credential (certificate)',
        perUser: true,
        factory: (userAssertionToken) =>
          new OnBehalfOfCredential({ tenantId: t, clientId: c, certificatePath, userAssertionToken: userAssertionToken!, ...common }),
      };
    }
    const clientSecret = need('AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH', config.azureClientSecret);
    return {
      name: 'on-behalf-of credential (client secret)',
      perUser: true,
      factory: (userAssertionToken) =>
        new OnBehalfOfCredential({ tenantId: t, clientId: c, clientSecret, userAssertionToken: userAssertionToken!, ...common }),
    };
  }
  if (config.managedIdentity) {
    return {
      name: `managed identity credential${clientId ? ` (client id ${clientId})` : ''}`,
      perUser: false,
      factory: () => new ManagedIdentityCredential({ ...(clientId ? { clientId } : {}), ...common }),
    };
  }
  if (config.azureFederatedTokenFile) {
    const tokenFilePath = config.azureFederatedTokenFile;
    return {
      name: 'workload identity credential',
      perUser: false,
      factory: () =>
        new WorkloadIdentityCredential({
          tenantId: need('AZURE_TENANT_ID', tenantId),
          clientId: need('AZURE_CLIENT_ID', clientId),
          tokenFilePath,
          ...common,
        }),
    };
  }
  if (config.azureClientCertificatePath) {
    const certificatePath = config.azureClientCertificatePath;
    return {
      name: `client certificate credential (client id ${clientId})`,
      perUser: false,
      factory: () =>
        new ClientCertificateCredential(need('AZURE_TENANT_ID', tenantId), need('AZURE_CLIENT_ID', clientId), { certificatePath }, common),
    };
  }
  return {
    name: `client secret credential (client id ${clientId})`,
    perUser: false,
    factory: () =>
      new ClientSecretCredential(
        need('AZURE_TENANT_ID', tenantId),
        need('AZURE_CLIENT_ID', clientId),
        need('AZURE_CLIENT_SECRET', config.azureClientSecret),
        common,
      ),
  };
}
