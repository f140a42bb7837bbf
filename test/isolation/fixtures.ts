// What the isolation route tests share: the demo tenants by name and the shapes they read from
// JSON answers and from the simulator's stored (raw) policy.
import { DEMO_TENANTS } from '../../src/simulator/seed.js';

export const OWN = DEMO_TENANTS.contoso;
export const FABRIKAM = DEMO_TENANTS.fabrikam;
export const NORTHWIND = DEMO_TENANTS.northwind;
export const WOODGROVE = DEMO_TENANTS.woodgrove;
/** A tenant the seed does not know: a rule for it is always new. */
export const OTHER = 'aaaaaaaa-1111-4222-8333-444444444444';
export const OUTSIDER_NAME = 'Added by another admin';

/** The fields these tests read from rules, diffs and audit records in JSON answers. */
export type Row = {
  tenantId: string;
  tenantDisplayName: string | null;
  direction: string;
  changeId: string;
  reason: string;
  at: string;
  ruleTenantId: string;
  outcome: string;
};

/** An allowedTenants entry and the policy document as the simulator stores them. */
export type Entry = {
  tenantId?: string;
  tenantDisplayName?: string;
  direction?: { inbound?: boolean; outbound?: boolean };
};
export type Raw = { properties: { isDisabled?: boolean; allowedTenants: Entry[] } };
