// The tenant isolation policy as the relay presents it, read tolerantly from whatever upstream
// stored. Upstream shapes seen in the wild: no policy at all (404 / empty / null), a document with
// no tenantId, rules with neither flag, rules with a missing flag, entries with an empty tenantId,
// and fields nobody documented. Reading never fails on any of them.
import { createHash } from 'node:crypto';
import type { RawIsolationPolicy } from '../upstream/types.js';

export type RuleDirection = 'Inbound' | 'Outbound' | 'Both' | 'None';
export type WritableDirection = Exclude<RuleDirection, 'None'>;
export const WRITABLE_DIRECTIONS: readonly WritableDirection[] = ['Inbound', 'Outbound', 'Both'];

export interface IsolationRule {
  /** Lower-case GUID or `*`. */
  tenantId: string;
  tenantDisplayName: string | null;
  direction: RuleDirection;
  inbound: boolean;
  outbound: boolean;
}

export interface IsolationPolicy {
  /** The tenant the policy belongs to (the relay's own tenant when upstream left it out). */
  tenantId: string;
  /** Isolation enforced (`!isDisabled`). A never-configured tenant is not enforced. */
  enabled: boolean;
  /** False when the tenant has never stored a policy. */
  configured: boolean;
  rules: IsolationRule[];
  /** Stable hash of the upstream document; pass it back as `ifRevision` for compare-and-swap. */
  revision: string;
}

export type RawAllowedTenant = NonNullable<
  NonNullable<RawIsolationPolicy['properties']>['allowedTenants']
>[number];

export function directionOf(inbound: boolean, outbound: boolean): RuleDirection {
  if (inbound && outbound) return 'Both';
  if (inbound) return 'Inbound';
  if (outbound) return 'Outbound';
  return 'None';
}

export function flagsOf(direction: WritableDirection): { inbound: boolean; outbound: boolean } {
  return { inbound: direction !== 'Outbound', outbound: direction !== 'Inbound' };
}

/** Tenant ids compare case-insensitively; GUIDs are shown in lower case. */
export function tenantKey(tenantId: string): string {
  return tenantId.trim().toLowerCase();
}

/** JSON with object keys sorted at every level, so equal documents hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** Short, stable revision of an upstream document (null = never configured). */
export function policyRevision(raw: RawIsolationPolicy | null): string {
  return createHash('sha256')
    .update(canonicalJson(raw ?? null))
    .digest('base64url')
    .slice(0, 16);
}

function ruleFromRaw(entry: RawAllowedTenant): IsolationRule | null {
  if (!entry || typeof entry !== 'object') return null;
  const id = typeof entry.tenantId === 'string' ? tenantKey(entry.tenantId) : '';
  // Terraform skips entries without a tenant id on read; so do we (they are kept on write, see
  // isolation-change.ts: we never touch entries we cannot show).
  if (!id) return null;
  const inbound = entry.direction?.inbound === true;
  const outbound = entry.direction?.outbound === true;
  return {
    tenantId: id,
    tenantDisplayName:
      typeof entry.tenantDisplayName === 'string' && entry.tenantDisplayName !== ''
        ? entry.tenantDisplayName
        : null,
    direction: directionOf(inbound, outbound),
    inbound,
    outbound,
  };
}

function propertiesOf(raw: RawIsolationPolicy | null) {
  return raw && typeof raw === 'object' && raw.properties && typeof raw.properties === 'object'
    ? raw.properties
    : undefined;
}

/** Whether the tenant has never stored a policy: 404 / empty / null (read as null), or the
 *  placeholder some tenants answer with instead (the terraform "never configured" fixture:
 *  `{"properties":{"isDisabled":false,"allowedTenants":[]}}`): no tenantId and no rules. Its
 *  `isDisabled: false` is not a stored choice, so it is not read as isolation switched on. */
export function isNeverConfigured(raw: RawIsolationPolicy | null): boolean {
  const props = propertiesOf(raw);
  if (!props) return true;
  const noTenant = typeof props.tenantId !== 'string' || props.tenantId === '';
  const noRules =
    props.allowedTenants === undefined ||
    props.allowedTenants === null ||
    (Array.isArray(props.allowedTenants) && props.allowedTenants.length === 0);
  return noTenant && noRules;
}

export function normalisePolicy(raw: RawIsolationPolicy | null, ownTenantId: string): IsolationPolicy {
  const props = propertiesOf(raw);
  const configured = !isNeverConfigured(raw);
  const allowed = Array.isArray(props?.allowedTenants) ? props.allowedTenants : [];
  const rules = allowed.map(ruleFromRaw).filter((r): r is IsolationRule => r !== null);
  return {
    tenantId:
      typeof props?.tenantId === 'string' && props.tenantId
        ? tenantKey(props.tenantId)
        : tenantKey(ownTenantId),
    enabled: configured && props ? props.isDisabled !== true : false,
    configured,
    rules,
    revision: policyRevision(raw),
  };
}

/** What a policy means, without display names or unknown fields: what verification compares. */
export interface PolicyMeaning {
  enabled: boolean;
  /** tenant key → direction; a tenant listed twice keeps the union of its flags. */
  rules: Map<string, RuleDirection>;
}

export function meaningOf(policy: Pick<IsolationPolicy, 'enabled' | 'rules'>): PolicyMeaning {
  const flags = new Map<string, { inbound: boolean; outbound: boolean }>();
  for (const r of policy.rules) {
    const f = flags.get(r.tenantId) ?? { inbound: false, outbound: false };
    flags.set(r.tenantId, { inbound: f.inbound || r.inbound, outbound: f.outbound || r.outbound });
  }
  const rules = new Map<string, RuleDirection>();
  for (const [id, f] of flags) rules.set(id, directionOf(f.inbound, f.outbound));
  return { enabled: policy.enabled, rules };
}

export function sameMeaning(a: PolicyMeaning, b: PolicyMeaning): boolean {
  if (a.enabled !== b.enabled || a.rules.size !== b.rules.size) return false;
  for (const [id, d] of a.rules) if (b.rules.get(id) !== d) return false;
  return true;
}
