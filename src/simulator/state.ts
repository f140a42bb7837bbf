// Everything the simulator remembers, rebuilt from the seed on reset.
import { randomUUID } from 'node:crypto';
import { checkBehaviour } from './behaviour.js';
import type { SimClock } from './clock.js';
import { FaultRegistry } from './faults.js';
import { InstallModel } from './installs.js';
import type { CallRecord, SeedEnvironment, SeedTenant, SimulatorBehaviour, SimulatorSeed } from './types.js';

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function defaultBehaviour(seed: SimulatorSeed): SimulatorBehaviour {
  for (const [k, v] of Object.entries(seed.behaviour ?? {})) checkBehaviour(k as keyof SimulatorBehaviour, v);
  return {
    installResponse: 'operation-location',
    busyStatus: 409,
    isolationPut: 'sync',
    neverConfiguredResponse: 'emptyPolicy',
    pageSize: 50,
    slowPutMs: 0,
    registeredClientIds: [seed.relayApp.clientId],
    entraErrorSeparator: 'crlf',
    environmentShape: 'captured',
    installBodyEmptyText: 'empty-string',
    succeededOperationError: 'absent',
    operationLocationOrigin: '',
    ...seed.behaviour,
  };
}

export interface IsolationOperation {
  id: string;
  tenantId: string;
  body: unknown;
  dueAt: number;
  polls: number;
  done: boolean;
  /** Outside writers that act right after this PUT takes effect. */
  outsideWriters: Array<'addRule' | 'toggleEnabled' | undefined>;
}

export class SimState {
  behaviour!: SimulatorBehaviour;
  installs!: InstallModel;
  readonly faults = new FaultRegistry();
  calls: CallRecord[] = [];
  private policies = new Map<string, unknown>();
  private revisions = new Map<string, number>();
  readonly isolationOps = new Map<string, IsolationOperation>();

  constructor(
    readonly seed: SimulatorSeed,
    readonly clock: SimClock,
    private readonly initialSpeed: number,
  ) {
    this.reset();
  }

  reset(): void {
    const seed = structuredClone(this.seed);
    this.behaviour = defaultBehaviour(seed);
    this.installs = new InstallModel(this.clock, seed);
    this.policies.clear();
    this.revisions.clear();
    this.isolationOps.clear();
    if (seed.isolationPolicy !== undefined && seed.isolationPolicy !== null) {
      this.policies.set(seed.tenantId.toLowerCase(), seed.isolationPolicy);
    }
    this.faults.clear();
    for (const f of seed.faults ?? []) this.faults.add(f);
    this.calls = [];
    this.clock.setSpeed(this.initialSpeed);
  }

  get homeTenantId(): string {
    return this.seed.tenantId.toLowerCase();
  }

  tenants(): SeedTenant[] {
    return [
      {
        tenantId: this.homeTenantId,
        domains: this.seed.tenantDomains,
        displayName: this.seed.tenantDisplayName ?? 'Home tenant',
      },
      ...this.seed.otherTenants.map((t) => ({ ...t, tenantId: t.tenantId.toLowerCase() })),
    ];
  }

  /** A tenant GUID or one of its domains → the tenant id; undefined when Entra would not know it. */
  resolveTenant(idOrDomain: string): string | undefined {
    const wanted = idOrDomain.toLowerCase();
    for (const t of this.tenants()) {
      if (t.tenantId === wanted || t.domains.some((d) => d.toLowerCase() === wanted)) return t.tenantId;
    }
    return undefined;
  }

  environments(): SeedEnvironment[] {
    return this.seed.environments;
  }

  environment(id: string): SeedEnvironment | undefined {
    return this.seed.environments.find((e) => e.id.toLowerCase() === id.toLowerCase());
  }

  getPolicy(tenantId: string): unknown {
    this.settleIsolationOps();
    return this.policies.get(tenantId.toLowerCase());
  }

  /** Stores a whole policy (or forgets it) and bumps the tenant's revision. */
  storePolicy(tenantId: string, raw: unknown): number {
    const key = tenantId.toLowerCase();
    if (raw === undefined) this.policies.delete(key);
    else this.policies.set(key, structuredClone(raw));
    const next = (this.revisions.get(key) ?? 0) + 1;
    this.revisions.set(key, next);
    return next;
  }

  policyRevision(tenantId: string): number {
    this.settleIsolationOps();
    return this.revisions.get(tenantId.toLowerCase()) ?? 0;
  }

  /** Another admin changes the stored policy (fault kind 'outsideWriter'). */
  outsideWrite(tenantId: string, mutate: 'addRule' | 'toggleEnabled' = 'addRule'): void {
    const current = structuredClone(this.policies.get(tenantId.toLowerCase())) as
      | { properties?: { isDisabled?: boolean; allowedTenants?: unknown[] } }
      | undefined;
    const policy = current && typeof current === 'object' ? current : {};
    policy.properties ??= {};
    if (mutate === 'toggleEnabled') {
      policy.properties.isDisabled = !policy.properties.isDisabled;
    } else {
      policy.properties.allowedTenants = [
        ...(Array.isArray(policy.properties.allowedTenants) ? policy.properties.allowedTenants : []),
        {
          tenantId: randomUUID(),
          tenantDisplayName: 'Added by another admin',
          direction: { inbound: true, outbound: false },
        },
      ];
    }
    this.storePolicy(tenantId, policy);
  }

  /** Async PUTs take effect when their (simulated) time has come, polled or not. */
  settleIsolationOps(): void {
    for (const op of this.isolationOps.values()) {
      if (!op.done && this.clock.now() >= op.dueAt) {
        op.done = true;
        this.storePolicy(op.tenantId, op.body);
        for (const mutate of op.outsideWriters) this.outsideWrite(op.tenantId, mutate);
      }
    }
  }
}
