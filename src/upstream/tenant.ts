// BAP tenant lookup: the tenant id of the identity the relay calls upstream with. It never
// changes for a process (one credential, one tenant), so the first answer is kept.
import { UpstreamError } from './errors.js';
import type { HttpCore } from './http-core.js';
import type { TenantClient } from './types.js';
import { upstreamUrl } from './urls.js';

export function createTenantClient(o: { http: HttpCore; bapBaseUrl: string }): TenantClient {
  let cached: string | undefined;
  let inflight: Promise<string> | undefined;
  const url = upstreamUrl(o.bapBaseUrl, ['providers', 'Microsoft.BusinessAppPlatform', 'tenant'], { 'api-version': '2021-04-01' });
  return {
    async getOwnTenantId(ctx) {
      if (cached) return cached;
      inflight ??= (async () => {
        const res = await o.http.send({ surface: 'bap', method: 'GET', url, ctx, idempotent: true, accept: [200], auth: 'bap' });
        const tenantId = (res.json as { tenantId?: unknown } | undefined)?.tenantId;
        if (typeof tenantId !== 'string' || tenantId === '') {
          throw new UpstreamError('bap', 'http', 'The Power Platform admin API (BAP) tenant lookup answered without a tenantId.', {
            status: res.status,
            correlationId: res.correlationId,
          });
        }
        cached = tenantId.toLowerCase();
        return cached;
      })().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
}
