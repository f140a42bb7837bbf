// Domain → tenant id through Entra ID OpenID discovery
// (`{authorityHost}/{domain}/v2.0/.well-known/openid-configuration`): the issuer and token
// endpoint carry the tenant GUID. Answers are cached (unknown domains for a shorter time), so a
// burst of rule edits does not turn into a burst of discovery calls.
import type { Clock } from '../clock.js';
import type { HttpCore } from './http-core.js';
import type { TenantDiscovery } from './types.js';
import { upstreamUrl } from './urls.js';

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const FOUND_TTL_MS = 60 * 60_000;
const NOT_FOUND_TTL_MS = 5 * 60_000;
const MAX_ENTRIES = 10_000;

export function tenantIdFromOpenIdConfiguration(json: unknown): string | null {
  if (!json || typeof json !== 'object') return null;
  const doc = json as { issuer?: unknown; token_endpoint?: unknown };
  for (const field of [doc.issuer, doc.token_endpoint]) {
    if (typeof field !== 'string') continue;
    const match = GUID.exec(field);
    if (match) return match[0].toLowerCase();
  }
  return null;
}

export function isDomainName(value: string): boolean {
  return DOMAIN.test(value);
}

export function createTenantDiscovery(o: { http: HttpCore; clock: Clock; authorityHost: string }): TenantDiscovery {
  const cache = new Map<string, { tenantId: string | null; until: number }>();
  return {
    async resolveDomain(domain, ctx) {
      const key = domain.trim().toLowerCase();
      if (!isDomainName(key)) return null;
      const hit = cache.get(key);
      if (hit && hit.until > o.clock.now()) return hit.tenantId;
      const url = upstreamUrl(o.authorityHost, [key, 'v2.0', '.well-known', 'openid-configuration']);
      // Entra answers 400 (AADSTS90002 "tenant not found") for an unknown domain; 404 is possible too.
      const res = await o.http.send({ surface: 'entra', method: 'GET', url, ctx, idempotent: true, accept: [200, 400, 404], auth: false });
      const tenantId = res.status === 200 ? tenantIdFromOpenIdConfiguration(res.json) : null;
      if (cache.size >= MAX_ENTRIES) cache.clear();
      cache.set(key, { tenantId, until: o.clock.now() + (tenantId ? FOUND_TTL_MS : NOT_FOUND_TTL_MS) });
      return tenantId;
    },
  };
}
