// BAP tenant isolation policy: GET and full-replace PUT of the raw document. The document is
// passed through untouched (unknown fields included); normalising it is the domain layer's job.
// A "never configured" tenant may answer 404, an empty body or `null`: all mean null here. A flat
// document (rules at the top level) is read as the same policy under `properties`.
import type { Clock } from '../clock.js';
import { UpstreamError } from './errors.js';
import type { HttpCore } from './http-core.js';
import { pollIntervalSeconds } from './retry-after.js';
import type { CallContext, IsolationClient, RawIsolationPolicy } from './types.js';
import { sameOriginLink, upstreamUrl } from './urls.js';

/** Pause before re-polling after a 409 ("busy, ask again"): terraform re-polls at once; we
 *  wait a moment so a server that keeps answering 409 is not hammered. */
const CONFLICT_REPOLL_MS = 500;

export interface IsolationClientOptions {
  http: HttpCore;
  clock: Clock;
  bapBaseUrl: string;
  defaultDeadlineMs: number;
}

export function createIsolationClient(o: IsolationClientOptions): IsolationClient {
  const base = o.bapBaseUrl;
  const policyUrl = (tenantId: string) =>
    upstreamUrl(base, ['providers', 'PowerPlatform.Governance', 'v1', 'tenants', tenantId, 'tenantIsolationPolicy']);

  async function get(tenantId: string, ctx: CallContext): Promise<RawIsolationPolicy | null> {
    const res = await o.http.send({ surface: 'bap', method: 'GET', url: policyUrl(tenantId), ctx, idempotent: true, accept: [200, 204, 404], auth: 'bap' });
    if (res.status !== 200) return null;
    return asPolicy(res.json);
  }

  async function waitForAsyncPut(location: string, ctx: CallContext): Promise<void> {
    const pollUrl = sameOriginLink(location, base);
    if (!pollUrl) {
      throw new UpstreamError('bap', 'http', `The Power Platform admin API (BAP) asked the relay to follow the policy update at another host (${location}); the relay only calls ${new URL(base).origin}. The update may still complete: read the policy before retrying.`, { status: 202 });
    }
    const deadline = ctx.deadline ?? o.clock.now() + o.defaultDeadlineMs;
    let polls = 0;
    for (;;) {
      polls++;
      const res = await o.http.send({ surface: 'bap', method: 'GET', url: pollUrl.toString(), ctx: { ...ctx, deadline }, idempotent: true, accept: [200, 202, 409], auth: 'bap' });
      if (res.status === 200) return;
      const waitMs = res.status === 202 ? pollIntervalSeconds(res.headers['retry-after']) * 1000 : CONFLICT_REPOLL_MS;
      if (o.clock.now() + waitMs >= deadline) {
        throw new UpstreamError('bap', 'deadline', `The Power Platform admin API (BAP) accepted the isolation policy update but had not finished it after ${polls} status checks before the deadline; read the policy to see whether it was applied.`, { status: res.status, correlationId: res.correlationId });
      }
      await o.clock.sleep(waitMs, ctx.signal);
    }
  }

  return {
    get,
    async put(tenantId, policy, ctx) {
      // Not resent after a 5xx, timeout or reset: the PUT may have landed, and another writer may
      // have changed the policy since; resending our full document would silently undo their
      // change. The service reads the policy and decides (IsolationService). A 429 is resent:
      // upstream throttled it unprocessed, so nothing of ours can be in the policy yet.
      const res = await o.http.send({ surface: 'bap', method: 'PUT', url: policyUrl(tenantId), body: policy, ctx, idempotent: false, resendAfterThrottle: true, accept: [200, 201, 202, 204], auth: 'bap' });
      if (res.status === 202) {
        const location = res.headers.location ?? res.headers['operation-location'];
        if (!location) {
          throw new UpstreamError('bap', 'http', 'The Power Platform admin API (BAP) accepted the isolation policy update asynchronously (HTTP 202) but sent no Location or Operation-Location header to follow; read the policy to see whether it was applied.', { status: 202, code: 'AsyncOperationWithoutLocation', correlationId: res.correlationId });
        }
        await waitForAsyncPut(location, ctx);
        // The poll answer's body is not the policy (terraform ignores it too): read the result.
        return get(tenantId, ctx);
      }
      return asPolicy(res.json);
    },
  };
}

function asPolicy(json: unknown): RawIsolationPolicy | null {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return null;
  return wrapFlatPolicy(json as Record<string, unknown>);
}

/** The policy fields that belong under `properties`. */
const POLICY_FIELDS = ['tenantId', 'isDisabled', 'allowedTenants'] as const;

/**
 * A document with its rules at the top level (`{id, tenantId, isDisabled, allowedTenants}`, a shape
 * one terraform capture has) is read as the same policy under `properties`, so its rules are seen
 * and every write sends the shape upstream's PUT takes (`{"properties": {...}}`, what terraform
 * and the cmdlets send). Other top-level fields (`id`, unknown ones) stay where they were.
 */
export function wrapFlatPolicy(doc: Record<string, unknown>): RawIsolationPolicy {
  if ('properties' in doc || !POLICY_FIELDS.some((k) => k in doc)) return doc as RawIsolationPolicy;
  const properties: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if ((POLICY_FIELDS as readonly string[]).includes(k)) properties[k] = v;
    else rest[k] = v;
  }
  return { ...rest, properties } as RawIsolationPolicy;
}
