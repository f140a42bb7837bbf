// Desired state for the isolation policy: rules to include, tenants to exclude, or an exact rule
// set, plus the enabled flag. drift() says item by item how a policy differs from it; the steps
// that close the gap are plain one-rule changes, so Ensure writes exactly what Check reported and
// nothing else (every exclude is honoured, not only the last one).
import { RelayError } from '../errors.js';
import { type IsolationPolicy, meaningOf, type RuleDirection, tenantKey, type WritableDirection } from './policy.js';

/** A rule as the desired state names it: tenant already resolved to a lower-case GUID or `*`. */
export interface DesiredRule {
  tenantId: string;
  direction: WritableDirection;
}

/** One rule-sized step towards the desired state (the same shape as the one-rule changes). */
export type DriftStep =
  | { action: 'upsertRule'; rule: DesiredRule }
  | { action: 'removeRule'; tenantId: string }
  | { action: 'setEnabled'; enabled: boolean };

export interface DesiredState {
  /** Rules that must be there with this direction; others are left alone. */
  include?: DesiredRule[];
  /** Tenants that must have no rule. */
  exclude?: string[];
  /** The complete rule set: anything else is removed. */
  exact?: DesiredRule[];
  enabled?: boolean;
}

export type DriftKind = 'missing' | 'extra' | 'wrongDirection' | 'enabledMismatch';

export interface DriftItem {
  kind: DriftKind;
  /** The rule's tenant; null for enabledMismatch. */
  tenantId: string | null;
  /** What the desired state says (a direction, "absent", or "enabled"/"disabled"). */
  expected: string;
  /** What the policy has now. */
  actual: string;
}

const onOff = (enabled: boolean) => (enabled ? 'enabled' : 'disabled');

/** Refuses a desired state that says nothing, or says two things about one tenant. */
export function validateDesiredState(desired: DesiredState): void {
  const { include = [], exclude = [], exact } = desired;
  if (exact && (include.length || exclude.length)) {
    throw new RelayError(
      400,
      'AmbiguousDesiredState',
      'Give either an exact rule set, or rules to include and/or exclude, not both: the exact set already says which rules stay and which go.',
      { target: 'body.exact' },
    );
  }
  if (!exact && !include.length && !exclude.length && desired.enabled === undefined) {
    throw new RelayError(
      400,
      'EmptyDesiredState',
      'The desired state is empty: give rules to include, tenants to exclude, an exact rule set, and/or enabled.',
      { target: 'body' },
    );
  }
  const seen = new Map<string, string>();
  const note = (tenantId: string, where: string) => {
    const key = tenantKey(tenantId);
    const first = seen.get(key);
    if (first) {
      throw new RelayError(
        400,
        'ConflictingDesiredRule',
        `Tenant ${key} is named twice (${first} and ${where}); name each tenant once in the desired state.`,
        { target: `body.${where}` },
      );
    }
    seen.set(key, where);
  };
  for (const [i, r] of include.entries()) note(r.tenantId, `include.${i}`);
  for (const [i, id] of exclude.entries()) note(id, `exclude.${i}`);
  for (const [i, r] of (exact ?? []).entries()) note(r.tenantId, `exact.${i}`);
}

/** How the policy differs from the desired state, rule by rule (empty: compliant). */
export function drift(policy: Pick<IsolationPolicy, 'enabled' | 'rules'>, desired: DesiredState): DriftItem[] {
  const now = meaningOf(policy);
  const items: DriftItem[] = [];
  const wanted = (rules: DesiredRule[]) => {
    for (const rule of rules) {
      const id = tenantKey(rule.tenantId);
      const has: RuleDirection | undefined = now.rules.get(id);
      if (has === undefined) items.push({ kind: 'missing', tenantId: id, expected: rule.direction, actual: 'absent' });
      else if (has !== rule.direction)
        items.push({ kind: 'wrongDirection', tenantId: id, expected: rule.direction, actual: has });
    }
  };
  if (desired.exact) {
    wanted(desired.exact);
    const keep = new Set(desired.exact.map((r) => tenantKey(r.tenantId)));
    for (const [id, has] of now.rules)
      if (!keep.has(id)) items.push({ kind: 'extra', tenantId: id, expected: 'absent', actual: has });
  } else {
    wanted(desired.include ?? []);
    for (const tenant of desired.exclude ?? []) {
      const id = tenantKey(tenant);
      const has = now.rules.get(id);
      if (has !== undefined) items.push({ kind: 'extra', tenantId: id, expected: 'absent', actual: has });
    }
  }
  if (desired.enabled !== undefined && desired.enabled !== now.enabled)
    items.push({ kind: 'enabledMismatch', tenantId: null, expected: onOff(desired.enabled), actual: onOff(now.enabled) });
  return items;
}

/** The one-rule changes that close exactly the reported drift, in the order they apply. */
export function stepsFor(items: DriftItem[]): DriftStep[] {
  return items.map((item): DriftStep => {
    if (item.kind === 'extra') return { action: 'removeRule', tenantId: item.tenantId! };
    if (item.kind === 'enabledMismatch') return { action: 'setEnabled', enabled: item.expected === 'enabled' };
    // missing or wrongDirection: the rule takes the wanted direction
    return { action: 'upsertRule', rule: { tenantId: item.tenantId!, direction: item.expected as WritableDirection } };
  });
}
