// Application packages per environment and install operations progressing on the simulated clock.
// Progress is computed when read: NotStarted for the first 20% of the install time, Running for the rest,
// then the package's seeded outcome. The package state follows: InstallRequested → Installing →
// Installed | InstallFailed (Canceled puts back whatever was there before).
import { randomUUID } from 'node:crypto';
import type { SimClock } from './clock.js';
import type { SeedErrorDetails, SeedPackage, SimulatorSeed } from './types.js';

export type OperationStatus = 'NotStarted' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';

export interface PackageInstance {
  instancePackageId: string;
  version: string;
  state: string;
  errorDetails: SeedErrorDetails | null;
}

export interface EnvPackage {
  def: SeedPackage;
  instance?: PackageInstance;
}

export interface InstallOperation {
  id: string;
  environmentId: string;
  uniqueName: string;
  targetVersion: string;
  instancePackageId: string;
  createdAt: number;
  notStartedMs: number;
  runningMs: number;
  outcome: 'Succeeded' | 'Failed' | 'Canceled';
  error: SeedErrorDetails | null;
  statusMessage: string | null;
  previous: PackageInstance | undefined;
  finalized: boolean;
}

export interface OperationView {
  operationId: string;
  status: OperationStatus;
  createdDateTime: string;
  lastActionDateTime: string | null;
  error: SeedErrorDetails | null;
  statusMessage: string | null;
}

const DEFAULT_INSTALL_SECONDS = 5;

/** What an install listed in a package's failsIn reports, unless the package names its own error. */
const FLEET_INSTALL_ERROR = {
  errorCode: -2147188475,
  errorName: 'SolutionImportFailed',
  message: 'A required component is missing in this environment',
  source: 'Dataverse',
  statusCode: 400,
  type: 'InstallException',
};

export class InstallModel {
  private envs = new Map<string, Map<string, EnvPackage>>();
  private operations = new Map<string, InstallOperation>();
  private busyUntil = new Map<string, { id: string; at: number }>();

  constructor(
    private readonly clock: SimClock,
    seed: SimulatorSeed,
  ) {
    const dataverseEnvs = seed.environments.filter((e) => e.dataverseUrl).map((e) => e.id);
    for (const env of seed.environments) {
      this.envs.set(env.id, new Map());
      if (env.busySeconds) this.busyUntil.set(env.id, { id: randomUUID(), at: clock.now() + env.busySeconds * 1000 });
    }
    for (const def of seed.packages) {
      for (const envId of def.environments ?? dataverseEnvs) {
        const installedVersion = def.installedIn?.[envId] ?? def.installed?.version;
        const instance: PackageInstance | undefined = installedVersion
          ? {
              instancePackageId: randomUUID(),
              version: installedVersion,
              state: 'Installed',
              errorDetails: null,
            }
          : undefined;
        this.envs.get(envId)?.set(def.uniqueName, { def, instance });
      }
    }
  }

  /** Packages offered in an environment, with operations brought up to the current simulated time. */
  packages(environmentId: string): EnvPackage[] {
    this.advance(environmentId);
    return [...(this.envs.get(environmentId)?.values() ?? [])];
  }

  packageState(environmentId: string, uniqueName: string): string | undefined {
    this.advance(environmentId);
    const entry = this.envs.get(environmentId)?.get(uniqueName);
    if (!entry) return undefined;
    return entry.instance?.state ?? 'None';
  }

  /** Another package operation the seed says keeps the environment busy (busySeconds), not one of ours. */
  outsideOperation(environmentId: string): { id: string } | undefined {
    const until = this.busyUntil.get(environmentId);
    return until !== undefined && this.clock.now() < until.at ? { id: until.id } : undefined;
  }

  busy(environmentId: string): InstallOperation | undefined {
    this.advance(environmentId);
    return [...this.operations.values()].find((op) => op.environmentId === environmentId && !op.finalized);
  }

  /** Starts an install; undefined when the environment does not offer that uniqueName. */
  start(environmentId: string, uniqueName: string): { op: InstallOperation; entry: EnvPackage } | undefined {
    const entry = this.envs.get(environmentId)?.get(uniqueName);
    if (!entry) return undefined;
    const totalMs = (entry.def.install?.seconds ?? DEFAULT_INSTALL_SECONDS) * 1000;
    const op: InstallOperation = {
      id: randomUUID(),
      environmentId,
      uniqueName,
      targetVersion: entry.def.version,
      instancePackageId: entry.instance?.instancePackageId ?? randomUUID(),
      createdAt: this.clock.now(),
      notStartedMs: totalMs * 0.2,
      runningMs: totalMs * 0.8,
      ...(entry.def.failsIn?.includes(environmentId)
        ? { outcome: 'Failed' as const, error: entry.def.install?.error ?? FLEET_INSTALL_ERROR, statusMessage: 'Installation failed' }
        : {
            outcome: entry.def.install?.outcome ?? 'Succeeded',
            error: entry.def.install?.error ?? null,
            statusMessage: entry.def.install?.statusMessage ?? null,
          }),
      previous: entry.instance ? { ...entry.instance } : undefined,
      finalized: false,
    };
    this.operations.set(op.id, op);
    entry.instance = {
      instancePackageId: op.instancePackageId,
      version: op.targetVersion,
      state: 'InstallRequested',
      errorDetails: null,
    };
    return { op, entry };
  }

  operation(environmentId: string, operationId: string): OperationView | undefined {
    const op = this.operations.get(operationId);
    if (!op || op.environmentId !== environmentId) return undefined;
    this.advance(environmentId);
    const status = this.statusOf(op);
    const iso = (ms: number) => new Date(ms).toISOString();
    const lastAction =
      status === 'NotStarted'
        ? null
        : status === 'Running'
          ? iso(op.createdAt + op.notStartedMs)
          : iso(op.createdAt + op.notStartedMs + op.runningMs);
    return {
      operationId: op.id,
      status,
      createdDateTime: iso(op.createdAt),
      lastActionDateTime: lastAction,
      error: status === 'Failed' ? op.error : null,
      statusMessage:
        status === 'Succeeded' ? '' : status === 'Failed' || status === 'Canceled' ? op.statusMessage : null,
    };
  }

  private statusOf(op: InstallOperation): OperationStatus {
    const elapsed = this.clock.now() - op.createdAt;
    if (elapsed < op.notStartedMs) return 'NotStarted';
    if (elapsed < op.notStartedMs + op.runningMs) return 'Running';
    return op.outcome;
  }

  /** Moves package states along with their operations' progress. */
  private advance(environmentId: string): void {
    const env = this.envs.get(environmentId);
    if (!env) return;
    for (const op of this.operations.values()) {
      if (op.environmentId !== environmentId || op.finalized) continue;
      const entry = env.get(op.uniqueName);
      if (!entry?.instance) continue;
      const status = this.statusOf(op);
      if (status === 'NotStarted') entry.instance.state = 'InstallRequested';
      else if (status === 'Running') entry.instance.state = 'Installing';
      else {
        op.finalized = true;
        if (status === 'Succeeded')
          entry.instance = { ...entry.instance, state: 'Installed', errorDetails: null };
        else if (status === 'Failed')
          entry.instance = { ...entry.instance, state: 'InstallFailed', errorDetails: op.error };
        else entry.instance = op.previous;
      }
    }
  }
}
