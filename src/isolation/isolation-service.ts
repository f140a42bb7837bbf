// The isolation policy operations. Upstream only offers a full-replace PUT with no ETag, so every
// write is a read-modify-write inside the per-tenant lock: read → apply the one change → (no-op:
// stop, no PUT) → audit intent → PUT → read back → verify. When the read-back shows that another
// writer moved the policy, the one change is redone on the fresh policy (never the stale one, so
// their change is kept), a bounded number of times, then the caller gets a 409 saying what happened.
// This class resolves tenants and reads; change-writer.ts does the writing.
import { RelayError } from '../errors.js';
import type { AuditPage, AuditQuery } from '../state/audit-store.js';
import type { CallContext, TenantClient, TenantDiscovery } from '../upstream/types.js';
import type { DesiredRule, IsolationChange } from './change.js';
import { ChangeWriter, type ChangeWriterDeps, type WriteContext, type WriteOptions, type WriteResult } from './change-writer.js';
import { type IsolationPolicy, normalisePolicy, tenantKey, type WritableDirection } from './policy.js';
import { parseTenantIdentifier } from './tenant-id.js';
import { type DesiredState, type DriftItem, drift, validateDesiredState } from './desired-state.js';

export type { WriteContext, WriteOptions, WriteResult } from './change-writer.js';
export { MAX_WRITE_ATTEMPTS } from './change-writer.js';

export interface IsolationServiceDeps extends ChangeWriterDeps {
  tenant: TenantClient;
  tenantDiscovery: TenantDiscovery;
}

export interface RuleInput {
  /** GUID, `*` or a domain. */
  tenant: string;
  direction: WritableDirection;
}

/** A desired state as a caller gives it: tenants as GUID, `*` or a domain. */
export interface DesiredStateInput {
  include?: RuleInput[];
  exclude?: string[];
  exact?: RuleInput[];
  enabled?: boolean;
}

export interface PolicyCheck {
  compliant: boolean;
  drift: DriftItem[];
  revision: string;
  enabled: boolean;
}

export class IsolationService {
  private readonly writer: ChangeWriter;

  constructor(private readonly deps: IsolationServiceDeps) {
    this.writer = new ChangeWriter(deps);
  }

  private async ownTenantId(call: CallContext): Promise<string> {
    return tenantKey(await this.deps.tenant.getOwnTenantId(call));
  }

  async getPolicy(call: CallContext): Promise<IsolationPolicy> {
    const own = await this.ownTenantId(call);
    return normalisePolicy(await this.deps.isolation.get(own, call), own);
  }

  listChanges(query: AuditQuery): Promise<AuditPage> {
    return this.deps.auditStore.list(query);
  }

  /** GUID or `*` as typed; a domain resolved through Entra discovery; anything else → 400. */
  async resolveTenant(input: string, target: string, call: CallContext): Promise<string> {
    const id = parseTenantIdentifier(input, target);
    if (id.kind !== 'domain') return id.tenantId;
    const resolved = await this.deps.tenantDiscovery.resolveDomain(id.domain, call);
    if (!resolved) {
      throw new RelayError(
        400,
        'UnknownTenantDomain',
        `Entra ID does not know the domain "${id.domain}", so it cannot be turned into a tenant id; check the spelling (it must be a verified domain of that tenant, such as contoso.onmicrosoft.com) or use the tenant id (GUID).`,
        { target },
      );
    }
    return tenantKey(resolved);
  }

  async upsertRule(rule: RuleInput, options: WriteOptions, ctx: WriteContext): Promise<WriteResult> {
    const tenantId = await this.resolveTenant(rule.tenant, 'tenant', ctx.call);
    return this.write(
      { action: 'upsertRule', rule: { tenantId, direction: rule.direction } },
      options,
      ctx,
      tenantId,
    );
  }

  async removeRule(tenant: string, options: WriteOptions, ctx: WriteContext): Promise<WriteResult> {
    const tenantId = await this.resolveTenant(tenant, 'tenant', ctx.call);
    return this.write(
      { action: 'removeRule', tenantId }, options, ctx, tenantId);
  }

  setEnabled(enabled: boolean, options: WriteOptions, ctx: WriteContext): Promise<WriteResult> {
    return this.write(
      { action: 'setEnabled', enabled }, options, ctx, null);
  }

  async replacePolicy(
    policy: { enabled: boolean; rules: RuleInput[] },
    options: WriteOptions & { confirmRemovals?: boolean },
    ctx: WriteContext,
  ): Promise<WriteResult> {
    const rules: DesiredRule[] = [];
    for (const [i, r] of policy.rules.entries()) {
      rules.push({
        tenantId: await this.resolveTenant(r.tenant, `body.rules.${i}.tenant`, ctx.call),
        direction: r.direction,
      });
    }
    return this.write(
      { action: 'replacePolicy', enabled: policy.enabled, rules },
      options,
      ctx,
      null,
      options.confirmRemovals === true,
    );
  }

  /** Drift against a desired state; reads the policy once and writes nothing. */
  async checkPolicy(input: DesiredStateInput, call: CallContext): Promise<PolicyCheck> {
    const desired = await this.resolveDesired(input, call);
    validateDesiredState(desired);
    const policy = await this.getPolicy(call);
    const items = drift(policy, desired);
    return { compliant: items.length === 0, drift: items, revision: policy.revision, enabled: policy.enabled };
  }

  /** Closes exactly the drift Check reports, in one verified write (none when compliant). */
  async ensurePolicy(
    input: DesiredStateInput,
    options: WriteOptions & { confirmRemovals?: boolean },
    ctx: WriteContext,
  ): Promise<WriteResult> {
    const desired = await this.resolveDesired(input, ctx.call);
    return this.write({ action: 'ensurePolicy', desired }, options, ctx, null, options.confirmRemovals === true);
  }

  private async resolveDesired(input: DesiredStateInput, call: CallContext): Promise<DesiredState> {
    const rules = async (list: RuleInput[], where: string) => {
      const out: DesiredRule[] = [];
      for (const [i, r] of list.entries())
        out.push({ tenantId: await this.resolveTenant(r.tenant, `body.${where}.${i}.tenant`, call), direction: r.direction });
      return out;
    };
    const desired: DesiredState = {};
    if (input.include) desired.include = await rules(input.include, 'include');
    if (input.exact) desired.exact = await rules(input.exact, 'exact');
    if (input.exclude) {
      desired.exclude = [];
      for (const [i, tenant] of input.exclude.entries())
        desired.exclude.push(await this.resolveTenant(tenant, `body.exclude.${i}`, call));
    }
    if (input.enabled !== undefined) desired.enabled = input.enabled;
    return desired;
  }

  /** Runs an audit write that must succeed before the change goes further (nothing is sent upstream
   *  without its record); a failure is a 503 the caller can retry, never a 500. */

  private async write(
    change: IsolationChange,
    options: WriteOptions,
    ctx: WriteContext,
    ruleTenantId: string | null,
    confirmRemovals = false,
  ): Promise<WriteResult> {
    const own = await this.ownTenantId(ctx.call);
    return this.writer.write(own, change, options, ctx, ruleTenantId, confirmRemovals);
  }
}
