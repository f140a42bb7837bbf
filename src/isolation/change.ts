// One change to the isolation policy, applied to the RAW upstream document so every field we do
// not understand goes back to upstream exactly as it came. Entries we cannot show (an empty
// tenantId) are never touched either: a change only moves what it names.
import { RelayError } from '../errors.js';
import { type DesiredRule, type DesiredState, drift, stepsFor, validateDesiredState } from './desired-state.js';
import type { RawIsolationPolicy } from '../upstream/types.js';
import {
  flagsOf,
  type IsolationPolicy,
  type IsolationRule,
  isNeverConfigured,
  meaningOf,
  normalisePolicy,
  type RawAllowedTenant,
  type RuleDirection,
  sameMeaning,
  tenantKey,
  WRITABLE_DIRECTIONS,
  type WritableDirection,
} from './policy.js';

/** A rule as a write names it: tenant already resolved to a lower-case GUID or `*`. */
export type { DesiredRule } from './desired-state.js';

export type IsolationChange =
  | { action: 'upsertRule'; rule: DesiredRule }
  | { action: 'removeRule'; tenantId: string }
  | { action: 'setEnabled'; enabled: boolean }
  | { action: 'replacePolicy'; enabled: boolean; rules: DesiredRule[] }
  /** Bring the policy to a desired state: the steps are worked out on whatever policy is read. */
  | { action: 'ensurePolicy'; desired: DesiredState };

export type IsolationAction = IsolationChange['action'];

export interface RuleDirectionChange {
  tenantId: string;
  directionBefore: RuleDirection;
  directionAfter: RuleDirection;
}

export interface PolicyDiff {
  added: IsolationRule[];
  removed: IsolationRule[];
  changed: RuleDirectionChange[];
  enabledBefore: boolean;
  enabledAfter: boolean;
}

function refuseDirection(direction: string, tenantId: string, target: string): never {
  throw new RelayError(
    400,
    direction === 'None' ? 'RuleWithoutDirection' : 'InvalidDirection',
    direction === 'None'
      ? `The rule for tenant ${tenantId} has no direction, which grants nothing: use Inbound, Outbound or Both, or remove the rule instead.`
      : `"${direction}" is not a direction for tenant ${tenantId}: use Inbound, Outbound or Both.`,
    { target },
  );
}

function refuseOwnTenant(tenantId: string, target: string): never {
  throw new RelayError(
    400,
    'OwnTenantRule',
    `${tenantId} is this relay's own tenant; the isolation policy only lists other tenants, so a rule for it is refused.`,
    { target },
  );
}

/** Refuses what upstream would store but an admin never means (a rule that grants nothing, a duplicate). */
export function validateChange(change: IsolationChange, ownTenantId: string): void {
  const own = tenantKey(ownTenantId);
  const check = (rule: DesiredRule, target: string) => {
    if (!(WRITABLE_DIRECTIONS as readonly string[]).includes(rule.direction))
      refuseDirection(rule.direction, rule.tenantId, target);
    if (tenantKey(rule.tenantId) === own) refuseOwnTenant(rule.tenantId, target);
  };
  if (change.action === 'upsertRule') check(change.rule, 'tenant');
  if (change.action === 'removeRule' && tenantKey(change.tenantId) === own)
    refuseOwnTenant(change.tenantId, 'tenant');
  if (change.action === 'ensurePolicy') {
    validateDesiredState(change.desired);
    for (const [i, rule] of (change.desired.include ?? []).entries()) check(rule, `body.include.${i}`);
    for (const [i, rule] of (change.desired.exact ?? []).entries()) check(rule, `body.exact.${i}`);
    for (const [i, id] of (change.desired.exclude ?? []).entries())
      if (tenantKey(id) === own) refuseOwnTenant(id, `body.exclude.${i}`);
  }
  if (change.action === 'replacePolicy') {
    const seen = new Map<string, number>();
    change.rules.forEach((rule, i) => {
      check(rule, `body.rules.${i}`);
      const key = tenantKey(rule.tenantId);
      const first = seen.get(key);
      if (first !== undefined) {
        throw new RelayError(
          400,
          'DuplicateTenantRule',
          `Tenant ${key} is listed twice (rules ${first} and ${i}); list each tenant once with the direction it should have (Both for inbound and outbound).`,
          { target: `body.rules.${i}` },
        );
      }
      seen.set(key, i);
    });
  }
}

/** The document upstream gets when a never-configured tenant stores its first policy: not enforced,
 *  so adding a rule never switches isolation on as a side effect. That holds for the placeholder
 *  document too (see isNeverConfigured): its `isDisabled: false` was never anyone's choice. */
function startingDocument(raw: RawIsolationPolicy | null, ownTenantId: string): RawIsolationPolicy {
  const neverConfigured = isNeverConfigured(raw);
  const doc: RawIsolationPolicy = raw && typeof raw === 'object' ? structuredClone(raw) : {};
  if (!doc.properties || typeof doc.properties !== 'object') doc.properties = {};
  const props = doc.properties;
  if (neverConfigured) props.isDisabled = true;
  if (typeof props.tenantId !== 'string' || props.tenantId === '') props.tenantId = tenantKey(ownTenantId);
  if (!Array.isArray(props.allowedTenants)) props.allowedTenants = [];
  return doc;
}

const keyOf = (entry: RawAllowedTenant) =>
  entry && typeof entry.tenantId === 'string' ? tenantKey(entry.tenantId) : '';

function withDirection(entry: RawAllowedTenant, direction: WritableDirection): RawAllowedTenant {
  const existing = entry.direction && typeof entry.direction === 'object' ? entry.direction : {};
  return { ...entry, direction: { ...existing, ...flagsOf(direction) } };
}

function newEntry(rule: DesiredRule): RawAllowedTenant {
  return { tenantId: rule.tenantId, direction: flagsOf(rule.direction) };
}

/** Returns a new raw document with the change applied; the input is not modified. */
export function applyChange(
  raw: RawIsolationPolicy | null,
  change: IsolationChange,
  ownTenantId: string,
): RawIsolationPolicy {
  if (change.action === 'ensurePolicy') {
    // Exactly the drift this document shows, one rule at a time, on the raw document.
    const steps = stepsFor(drift(normalisePolicy(raw, ownTenantId), change.desired));
    return steps.reduce<RawIsolationPolicy>((doc, step) => applyChange(doc, step, ownTenantId), startingDocument(raw, ownTenantId));
  }
  const doc = startingDocument(raw, ownTenantId);
  const props = doc.properties!;
  const entries = props.allowedTenants!;
  switch (change.action) {
    case 'setEnabled':
      props.isDisabled = !change.enabled;
      break;
    case 'removeRule': {
      const key = tenantKey(change.tenantId);
      props.allowedTenants = entries.filter((e) => keyOf(e) !== key);
      break;
    }
    case 'upsertRule': {
      const key = tenantKey(change.rule.tenantId);
      let found = false;
      // A tenant stored twice upstream is one rule to an admin: the first entry takes the new
      // direction (keeping its other fields), later copies go.
      props.allowedTenants = entries.flatMap((e) => {
        if (keyOf(e) !== key) return [e];
        if (found) return [];
        found = true;
        return [withDirection(e, change.rule.direction)];
      });
      if (!found) props.allowedTenants.push(newEntry(change.rule));
      break;
    }
    case 'replacePolicy': {
      props.isDisabled = !change.enabled;
      const wanted = new Map(change.rules.map((r) => [tenantKey(r.tenantId), r]));
      const kept = new Set<string>();
      const next: RawAllowedTenant[] = [];
      for (const e of entries) {
        const key = keyOf(e);
        if (key === '')
          next.push(e); // invisible to the caller, so not theirs to replace
        else if (wanted.has(key) && !kept.has(key)) {
          kept.add(key);
          next.push(withDirection(e, wanted.get(key)!.direction));
        }
      }
      for (const [key, rule] of wanted) if (!kept.has(key)) next.push(newEntry(rule));
      props.allowedTenants = next;
      break;
    }
  }
  return doc;
}

type PolicyView = Pick<IsolationPolicy, 'enabled' | 'rules'>;

export function diffPolicies(before: PolicyView, after: PolicyView): PolicyDiff {
  const b = meaningOf(before);
  const a = meaningOf(after);
  const firstRule = (p: PolicyView, id: string) => p.rules.find((r) => r.tenantId === id)!;
  const added: IsolationRule[] = [];
  const removed: IsolationRule[] = [];
  const changed: RuleDirectionChange[] = [];
  for (const [id, direction] of a.rules) {
    const was = b.rules.get(id);
    if (was === undefined)
      added.push({ ...firstRule(after, id), direction, ...flagsFromDirection(direction) });
    else if (was !== direction)
      changed.push({ tenantId: id, directionBefore: was, directionAfter: direction });
  }
  for (const [id, direction] of b.rules) {
    if (!a.rules.has(id))
      removed.push({ ...firstRule(before, id), direction, ...flagsFromDirection(direction) });
  }
  return { added, removed, changed, enabledBefore: before.enabled, enabledAfter: after.enabled };
}

function flagsFromDirection(direction: RuleDirection) {
  return direction === 'None' ? { inbound: false, outbound: false } : flagsOf(direction);
}

export function diffIsEmpty(diff: PolicyDiff): boolean {
  return (
    diff.added.length === 0 &&
    diff.removed.length === 0 &&
    diff.changed.length === 0 &&
    diff.enabledBefore === diff.enabledAfter
  );
}

/** Whether a policy already says what the change asks for (used after an outside writer moved it). */
export function changeIsPresent(policy: PolicyView, change: IsolationChange): boolean {
  const m = meaningOf(policy);
  switch (change.action) {
    case 'setEnabled':
      return m.enabled === change.enabled;
    case 'removeRule':
      return !m.rules.has(tenantKey(change.tenantId));
    case 'upsertRule':
      return m.rules.get(tenantKey(change.rule.tenantId)) === change.rule.direction;
    case 'ensurePolicy':
      return drift(policy, change.desired).length === 0;
    case 'replacePolicy':
      return sameMeaning(m, {
        enabled: change.enabled,
        rules: new Map(change.rules.map((r) => [tenantKey(r.tenantId), r.direction as RuleDirection])),
      });
  }
}

export interface ReadBackCheck {
  /** The change is there and nothing else moved. */
  verified: boolean;
  changePresent: boolean;
  /** What differs between what we wrote and what upstream now holds (someone else's doing). */
  outsideChanges: PolicyDiff;
}

/** Compares the policy read back after a PUT with the document we PUT. */
export function checkReadBack(
  written: RawIsolationPolicy,
  readBack: RawIsolationPolicy | null,
  change: IsolationChange,
  ownTenantId: string,
): ReadBackCheck {
  const expected = normalisePolicy(written, ownTenantId);
  const actual = normalisePolicy(readBack, ownTenantId);
  const outsideChanges = diffPolicies(expected, actual);
  const changePresent = changeIsPresent(actual, change);
  return { verified: changePresent && diffIsEmpty(outsideChanges), changePresent, outsideChanges };
}

/** Several diffs read one after another, as one. */
export function mergeDiffs(diffs: PolicyDiff[]): PolicyDiff | null {
  if (diffs.length === 0) return null;
  return {
    added: diffs.flatMap((d) => d.added),
    removed: diffs.flatMap((d) => d.removed),
    changed: diffs.flatMap((d) => d.changed),
    enabledBefore: diffs[0]!.enabledBefore,
    enabledAfter: diffs.at(-1)!.enabledAfter,
  };
}

/** A diff as a phrase for a message: "added …, removed …". */
export function describeDiff(d: PolicyDiff): string {
  const parts = [
    ...d.added.map((r) => `added ${r.tenantId} (${r.direction})`),
    ...d.removed.map((r) => `removed ${r.tenantId}`),
    ...d.changed.map((c) => `changed ${c.tenantId} from ${c.directionBefore} to ${c.directionAfter}`),
    ...(d.enabledBefore !== d.enabledAfter ? [`turned isolation ${d.enabledAfter ? 'on' : 'off'}`] : []),
  ];
  return parts.length ? parts.join(', ') : 'rewrote the policy';
}
