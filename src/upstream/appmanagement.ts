// PPAPI appmanagement: list environment packages (following @odata.nextLink), start an install
// (one POST, never replayed), and read an install operation.
import { UpstreamError } from './errors.js';
import type { HttpCore } from './http-core.js';
import { parseRetryAfterSeconds } from './retry-after.js';
import type {
  AppManagementClient,
  InstallStarted,
  InstallStateFilter,
  OperationSnapshot,
  OperationStatus,
  RawApplicationPackage,
  UpstreamErrorDetails,
} from './types.js';
import { sameOriginLink, upstreamUrl } from './urls.js';

/** A list longer than this many pages is upstream looping, not a catalog. */
const MAX_PAGES = 200;

const STATUSES: Record<string, OperationStatus> = {
  notstarted: 'NotStarted',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  canceled: 'Canceled',
  cancelled: 'Canceled',
};

export interface AppManagementOptions {
  http: HttpCore;
  ppapiBaseUrl: string;
  apiVersion: string;
}

export function createAppManagementClient(o: AppManagementOptions): AppManagementClient {
  const base = o.ppapiBaseUrl;

  return {
    async listEnvironmentPackages(environmentId, query, ctx) {
      let url = upstreamUrl(base, ['appmanagement', 'environments', environmentId, 'applicationPackages'], {
        'api-version': o.apiVersion,
        appInstallState: query.state as InstallStateFilter | undefined,
        lcid: query.lcid,
      });
      const all: RawApplicationPackage[] = [];
      const seen = new Set<string>();
      for (let page = 1; ; page++) {
        seen.add(url);
        const res = await o.http.send({ surface: 'ppapi', method: 'GET', url, ctx, idempotent: true, accept: [200], auth: 'ppapi' });
        const body = res.json as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
        if (!body || !Array.isArray(body.value)) {
          throw new UpstreamError('ppapi', 'http', 'Power Platform API answered the package list without a "value" array; upstream may have changed its format.', {
            status: res.status,
            correlationId: res.correlationId,
          });
        }
        for (const item of body.value) {
          if (item && typeof item === 'object' && typeof (item as RawApplicationPackage).uniqueName === 'string') {
            all.push(item as RawApplicationPackage);
          }
        }
        const next = body['@odata.nextLink'];
        if (typeof next !== 'string' || next === '') return all;
        const resolved = sameOriginLink(next, base);
        if (!resolved) {
          throw new UpstreamError('ppapi', 'http', `Power Platform API sent a next-page link to another host (${safeOrigin(next)}); the relay only calls ${new URL(base).origin}, so the list was not completed.`, {
            status: res.status,
            correlationId: res.correlationId,
          });
        }
        url = resolved.toString();
        if (seen.has(url) || page >= MAX_PAGES) {
          throw new UpstreamError('ppapi', 'http', `Power Platform API kept sending next-page links (${page} pages); the package list was not completed.`, {
            status: res.status,
            correlationId: res.correlationId,
          });
        }
      }
    },

    async installPackage(environmentId, uniqueName, ctx): Promise<InstallStarted> {
      const url = upstreamUrl(
        base,
        ['appmanagement', 'environments', environmentId, 'applicationPackages', uniqueName, 'install'],
        { 'api-version': o.apiVersion },
      );
      // Upstream accepts an empty JSON object as the optional payload; an empty body with a JSON
      // content type is refused by some servers.
      const res = await o.http.send({ surface: 'ppapi', method: 'POST', url, body: {}, ctx, idempotent: false, accept: [200, 201, 202], auth: 'ppapi' });
      const header = res.headers['operation-location'];
      if (header) {
        const operationId = operationIdFromUrl(header);
        if (operationId) {
          // Only the configured host gets the relay's token; another host is named, not called.
          const link = sameOriginLink(header, base);
          return link ? { operationId, operationUrl: link.toString() } : { operationId, refusedOperationOrigin: safeOrigin(header) };
        }
      }
      const body = res.json as { lastOperation?: { operationId?: unknown } } | undefined;
      const fromBody = body?.lastOperation?.operationId;
      if (typeof fromBody === 'string' && fromBody !== '') return { operationId: fromBody };
      throw new UpstreamError(
        'ppapi',
        'http',
        `Power Platform API accepted the install of "${uniqueName}" (HTTP ${res.status}) but returned neither an Operation-Location header nor lastOperation.operationId, so its progress cannot be followed; check the package state in environment ${environmentId} before installing again.`,
        { status: res.status, code: 'InstallOperationUnknown', correlationId: res.correlationId },
      );
    },

    async getOperation(environmentId, operationId, ctx, operationUrl): Promise<OperationSnapshot> {
      // Upstream's own status URL first: it carries the api-version the operation was made for.
      const given = operationUrl ? sameOriginLink(operationUrl, base) : undefined;
      const url =
        given?.toString() ??
        upstreamUrl(base, ['appmanagement', 'environments', environmentId, 'operations', operationId], {
          'api-version': o.apiVersion,
        });
      const res = await o.http.send({ surface: 'ppapi', method: 'GET', url, ctx, idempotent: true, accept: [200, 202, 409], auth: 'ppapi' });
      const retryAfterSeconds = parseRetryAfterSeconds(res.headers['retry-after'], Date.now());
      // 409 while polling means "not ready yet" (terraform re-polls); report it as still running.
      if (res.status === 409) return { operationId, status: 'Running', retryAfterSeconds: retryAfterSeconds ?? 1 };
      return parseOperation(operationId, res.json, retryAfterSeconds);
    },
  };
}

export function parseOperation(operationId: string, json: unknown, retryAfterSeconds?: number): OperationSnapshot {
  const body = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
  const rawStatus = typeof body.status === 'string' ? body.status : '';
  const status = STATUSES[rawStatus.toLowerCase()];
  const error = (body.error ?? body.errorDetails ?? null) as UpstreamErrorDetails | null;
  return {
    operationId: typeof body.operationId === 'string' && body.operationId ? body.operationId : operationId,
    // An unknown or missing status is not an end: keep polling rather than report a false result.
    status: status ?? (body.status === undefined ? 'NotStarted' : 'Running'),
    createdDateTime: typeof body.createdDateTime === 'string' ? body.createdDateTime : null,
    lastActionDateTime: typeof body.lastActionDateTime === 'string' ? body.lastActionDateTime : null,
    error: error && typeof error === 'object' ? error : null,
    statusMessage: typeof body.statusMessage === 'string' ? body.statusMessage : null,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
}

/** ".../operations/{id}?api-version=1" → id */
export function operationIdFromUrl(link: string): string | undefined {
  try {
    const path = new URL(link, 'https://placeholder.invalid/').pathname;
    const m = /\/operations\/([^/]+)\/?$/i.exec(path);
    return m?.[1] ? decodeURIComponent(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function safeOrigin(link: string): string {
  try {
    return new URL(link).origin;
  } catch {
    return 'an unreadable URL';
  }
}
