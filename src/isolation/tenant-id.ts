// Tenant identifiers as admins type them: a GUID in any case, `*` for every tenant, or a domain
// such as contoso.onmicrosoft.com. Upstream stores only GUIDs and `*`, so a domain must be resolved
// (Entra OpenID discovery) before it can be written.
import { RelayError } from '../errors.js';

export type TenantIdentifier =
  | { kind: 'guid'; tenantId: string }
  | { kind: 'all'; tenantId: '*' }
  | { kind: 'domain'; domain: string };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// RFC 1123 labels, at least two of them, a letter-only top-level label.
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** Parses what the caller typed; throws a 400 that says what is accepted. `target` names the field. */
export function parseTenantIdentifier(input: string, target: string): TenantIdentifier {
  const value = input.trim();
  if (value === '*') return { kind: 'all', tenantId: '*' };
  // Admins paste GUIDs from places that wrap them in braces.
  const unbraced = value.replace(/^\{(.*)\}$/, '$1');
  if (GUID.test(unbraced)) return { kind: 'guid', tenantId: unbraced.toLowerCase() };
  if (DOMAIN.test(value)) return { kind: 'domain', domain: value.toLowerCase() };
  throw new RelayError(
    400,
    'InvalidTenantIdentifier',
    `"${input.slice(0, 100)}" is not a tenant identifier: use a tenant id (a GUID such as 2b4d6f80-1a3c-4e5f-9a7b-c8d9e0f1a2b3), * for all tenants, or a verified domain such as contoso.onmicrosoft.com.`,
    { target },
  );
}
