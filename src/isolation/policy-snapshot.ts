// One read of the isolation policy, kept three ways so a write never re-derives them: the raw
// document upstream stores (what a PUT sends back, unknown fields included), the normalised policy
// the relay reasons about, and the revision that tells two reads apart.
import type { RawIsolationPolicy } from '../upstream/types.js';
import { type IsolationPolicy, normalisePolicy } from './policy.js';

export interface PolicySnapshot {
  raw: RawIsolationPolicy | null;
  policy: IsolationPolicy;
  revision: string;
}

export function snapshotOf(raw: RawIsolationPolicy | null, ownTenantId: string): PolicySnapshot {
  const policy = normalisePolicy(raw, ownTenantId);
  return { raw, policy, revision: policy.revision };
}
