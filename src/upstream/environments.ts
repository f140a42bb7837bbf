// BAP environment reads (admin scope): the list behind the connector's environment dropdown and
// a single environment, with "has Dataverse" derived the way terraform does (a non-empty
// properties.linkedEnvironmentMetadata.instanceUrl).
import type { HttpCore } from './http-core.js';
import type { Environment, EnvironmentsClient } from './types.js';
import { sameOriginLink, upstreamUrl } from './urls.js';

const API_VERSION = '2023-06-01';
const MAX_PAGES = 100;

interface RawEnvironment {
  name?: string;
  id?: string;
  location?: string;
  properties?: {
    displayName?: string;
    environmentSku?: string;
    linkedEnvironmentMetadata?: { instanceUrl?: string | null } | null;
  };
}

export function toEnvironment(raw: RawEnvironment): Environment | undefined {
  const id = raw.name ?? raw.id?.split('/').pop();
  if (!id) return undefined;
  const instanceUrl = raw.properties?.linkedEnvironmentMetadata?.instanceUrl ?? '';
  return {
    id,
    displayName: raw.properties?.displayName || id,
    ...(raw.location ? { location: raw.location } : {}),
    ...(raw.properties?.environmentSku ? { environmentSku: raw.properties.environmentSku } : {}),
    ...(instanceUrl ? { dataverseUrl: instanceUrl } : {}),
    hasDataverse: instanceUrl.trim() !== '',
  };
}

export function createEnvironmentsClient(o: { http: HttpCore; bapBaseUrl: string }): EnvironmentsClient {
  const base = o.bapBaseUrl;
  const prefix = ['providers', 'Microsoft.BusinessAppPlatform', 'scopes', 'admin', 'environments'];
  return {
    async list(ctx) {
      let url = upstreamUrl(base, prefix, { 'api-version': API_VERSION });
      const out: Environment[] = [];
      for (let page = 1; page <= MAX_PAGES; page++) {
        const res = await o.http.send({ surface: 'bap', method: 'GET', url, ctx, idempotent: true, accept: [200], auth: 'bap' });
        const body = res.json as { value?: RawEnvironment[]; nextLink?: string; '@odata.nextLink'?: string } | undefined;
        for (const raw of body?.value ?? []) {
          const env = raw && typeof raw === 'object' ? toEnvironment(raw) : undefined;
          if (env) out.push(env);
        }
        const next = body?.nextLink ?? body?.['@odata.nextLink'];
        const resolved = typeof next === 'string' && next ? sameOriginLink(next, base) : undefined;
        if (!resolved) break;
        url = resolved.toString();
      }
      return out;
    },
    async get(environmentId, ctx) {
      const url = upstreamUrl(base, [...prefix, environmentId], { 'api-version': API_VERSION });
      const res = await o.http.send({ surface: 'bap', method: 'GET', url, ctx, idempotent: true, accept: [200, 404], auth: 'bap' });
      if (res.status === 404 || !res.json || typeof res.json !== 'object') return null;
      return toEnvironment(res.json as RawEnvironment) ?? null;
    },
  };
}
