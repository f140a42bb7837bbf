// createUpstreamClients(config): the Power Platform clients the services use, wired to one set
// of connection pools, one token provider and one HTTP core. close() releases the pools.
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { createAppManagementClient } from './appmanagement.js';
import type { BackoffPolicy } from './backoff.js';
import { createEnvironmentsClient } from './environments.js';
import { HttpCore } from './http-core.js';
import { createIdentityHttpClient } from './identity-http-client.js';
import { createIsolationClient } from './isolation.js';
import { type PoolTimeouts, UpstreamPools } from './pools.js';
import { scopesFor, type UpstreamScopes } from './scopes.js';
import { createTenantClient } from './tenant.js';
import { createTenantDiscovery } from './tenant-discovery.js';
import { createTokenProvider } from './token-provider.js';
import type { UpstreamClients, UpstreamObserver } from './types.js';
import { upstreamUrl } from './urls.js';

export interface UpstreamClientOptions {
  /** Sleeps (retry backoff, async PUT polling) and deadlines; tests inject a fast clock. */
  clock?: Clock;
  /** Override the per-cloud token scopes (sovereign or private clouds). */
  scopes?: Partial<UpstreamScopes>;
  backoff?: BackoffPolicy;
  /** Random source for backoff jitter. */
  random?: () => number;
  timeouts?: PoolTimeouts;
  /** Metrics hooks (RelayMetrics implements it). */
  observer?: UpstreamObserver;
}

export function createUpstreamClients(config: Config, opts: UpstreamClientOptions = {}): UpstreamClients {
  const clock = opts.clock ?? systemClock;
  const pools = new UpstreamPools(config.upstreamCaFile, opts.timeouts);
  const tokens = createTokenProvider(config, {
    httpClient: createIdentityHttpClient(pools),
    scopes: scopesFor(config.azureCloud, opts.scopes),
    ...(opts.observer ? { observer: opts.observer } : {}),
  });
  const http = new HttpCore({
    pools,
    tokens,
    clock,
    defaultDeadlineMs: config.upstreamDeadlineMs,
    clientId: config.azureClientId,
    bapBaseUrl: config.bapBaseUrl,
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...(opts.random ? { random: opts.random } : {}),
    ...(opts.observer ? { observer: opts.observer } : {}),
  });
  const tenant = createTenantClient({ http, bapBaseUrl: config.bapBaseUrl });

  return {
    appManagement: createAppManagementClient({ http, ppapiBaseUrl: config.ppapiBaseUrl, apiVersion: config.ppapiApiVersion }),
    environments: createEnvironmentsClient({ http, bapBaseUrl: config.bapBaseUrl }),
    tenant,
    isolation: createIsolationClient({ http, clock, bapBaseUrl: config.bapBaseUrl, defaultDeadlineMs: config.upstreamDeadlineMs }),
    tenantDiscovery: createTenantDiscovery({ http, clock, authorityHost: config.authorityHost }),
    async checkReady(ctx) {
      if (config.upstreamAuth === 'obo' && !ctx.userAssertion) {
        // No user token to exchange at probe time: check that Entra's discovery for our tenant answers.
        const url = upstreamUrl(config.authorityHost, [config.azureTenantId ?? 'organizations', 'v2.0', '.well-known', 'openid-configuration']);
        await http.send({ surface: 'entra', method: 'GET', url, ctx, idempotent: true, accept: [200], auth: false });
        return { ok: true, detail: `Entra ID answers for tenant ${config.azureTenantId}; upstream tokens are obtained per user (on-behalf-of).` };
      }
      await tokens.getToken('ppapi', ctx);
      await tokens.getToken('bap', ctx);
      const tenantId = await tenant.getOwnTenantId(ctx);
      return { ok: true, detail: `Tokens for the Power Platform API and BAP obtained with the ${tokens.credentialName}; BAP answers for tenant ${tenantId}.` };
    },
    close: () => pools.close(),
  };
}

export { simulatorEnv } from './simulator-env.js';
