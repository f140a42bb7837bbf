// Who is calling, as the auth layer established it. Routes read request.caller; the audit trail
// and logs record callerLabel(caller).
import type { Permission } from '../config.js';

export interface Caller {
  kind: 'user' | 'app' | 'apikey' | 'anonymous' | 'waitToken';
  /** Stable id: Entra oid, API key name, or "anonymous". */
  id: string;
  /** Human-readable: upn, appid or key name. */
  name: string;
  tenantId?: string;
  permissions: ReadonlySet<Permission>;
  /** The raw bearer token, kept only for on-behalf-of upstream calls; never logged. */
  bearerToken?: string;
}

export function callerLabel(caller: Caller): string {
  if (caller.kind !== 'user' && caller.kind !== 'app') return `${caller.kind}:${caller.name}`;
  // Entra callers: upn or appid, plus object id and tenant, so the audit trail names them unambiguously.
  return `${caller.kind}:${caller.name} (oid=${caller.id}${caller.tenantId ? `, tid=${caller.tenantId}` : ''})`;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** The permission a /v1 route needs; the auth hook refuses the call without it (403). */
    permission?: Permission;
    /** The wait endpoint: a valid signed wait-URL token is accepted instead of credentials. */
    acceptsWaitToken?: boolean;
  }
}
