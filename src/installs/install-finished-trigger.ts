// "When a package install finishes" in an environment: each poll lists the environment's packages
// once (every page) and compares each package's state, version and last operation with what the
// previous poll saw (kept in the trigger snapshot store under a hash of the states). A package that
// reached Installed (new, or at a new version) or InstallFailed since is one item, whoever started
// the install: the relay, the admin center or another tool.
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { RelayError } from '../errors.js';
import type { TriggerSnapshotStore } from '../state/trigger-snapshots.js';
import type { CallContext, RawApplicationPackage } from '../upstream/types.js';
import type { EnvironmentPackages } from './environment-packages.js';
import type { EnvironmentService } from './environment-service.js';
import { listedOperationId, normaliseError, type PackageError } from './package-model.js';

/** What the trigger remembers of one package: enough to tell that an install ended since. */
interface SeenPackage {
  state: string;
  version: string | null;
  operationId: string | null;
}

type PackageStates = Record<string, SeenPackage>;

export type InstallOutcome = 'Installed' | 'Updated' | 'InstallFailed';

export interface InstallFinishedItem {
  environmentId: string;
  packageUniqueName: string;
  displayName: string;
  version: string | null;
  previousVersion: string | null;
  outcome: InstallOutcome;
  error: PackageError | null;
  operationId: string | null;
  seenAt: string;
}

export type InstallTriggerPoll =
  | { kind: 'baseline' | 'unchanged'; cursor: string }
  | { kind: 'finished'; cursor: string; items: InstallFinishedItem[] };

const ENDED_STATES = new Set(['Installed', 'InstallFailed']);

/** The entry that speaks for a package: the installed one (or failed, or in progress) over an
 *  offered newer version that is merely listed. */
function currentEntry(entries: RawApplicationPackage[]): RawApplicationPackage {
  return (
    entries.find((e) => e.state === 'Installed') ??
    entries.find((e) => e.state && e.state !== 'None' && e.state !== 'NotInstalled') ??
    entries[0]!
  );
}

function statesOf(raw: RawApplicationPackage[]): Map<string, RawApplicationPackage> {
  const byName = new Map<string, RawApplicationPackage[]>();
  for (const entry of raw) byName.set(entry.uniqueName, [...(byName.get(entry.uniqueName) ?? []), entry]);
  return new Map([...byName].map(([name, entries]) => [name, currentEntry(entries)]));
}

function keyOf(environmentId: string, states: PackageStates): string {
  const sorted = Object.keys(states).sort().map((k) => [k, states[k]]);
  return `pkg-${createHash('sha256').update(JSON.stringify([environmentId.toLowerCase(), sorted])).digest('base64url').slice(0, 22)}`;
}

export class InstallFinishedTrigger {
  constructor(
    private readonly deps: {
      packages: EnvironmentPackages;
      environments: EnvironmentService;
      snapshots: TriggerSnapshotStore;
      clock: Clock;
    },
  ) {}

  async poll(environmentId: string, cursor: string | null, call: CallContext): Promise<InstallTriggerPoll> {
    // The first poll checks the environment can install at all; later polls cost one list.
    if (!cursor) await this.deps.environments.requireDataverse(environmentId, call);
    const entries = statesOf(await this.deps.packages.raw(environmentId, call));
    const states: PackageStates = {};
    for (const [name, e] of entries)
      states[name] = { state: e.state ?? 'None', version: e.version ?? null, operationId: listedOperationId(e) ?? null };
    const key = keyOf(environmentId, states);
    await this.deps.snapshots.save(key, states);
    if (!cursor) return { kind: 'baseline', cursor: key };
    if (cursor === key) return { kind: 'unchanged', cursor: key };
    const previous = (await this.deps.snapshots.load(cursor)) as PackageStates | null;
    if (!previous) {
      throw new RelayError(
        409,
        'TriggerBaselineLost',
        `The package states this trigger last saw (${cursor}) are no longer in the relay's state store. Turn the flow off and on again to start from the current states.`,
        { target: 'querystring.cursor' },
      );
    }
    const seenAt = new Date(this.deps.clock.now()).toISOString();
    const items: InstallFinishedItem[] = [];
    for (const [name, now] of Object.entries(states)) {
      if (!ENDED_STATES.has(now.state)) continue;
      const was = previous[name];
      const ended =
        !was || was.state !== now.state || was.version !== now.version || (now.operationId !== null && was.operationId !== now.operationId);
      if (!ended) continue;
      const entry = entries.get(name)!;
      const updated = now.state === 'Installed' && was?.state === 'Installed' && was.version !== now.version;
      items.push({
        environmentId,
        packageUniqueName: name,
        displayName: entry.localizedName || entry.applicationName || name,
        version: now.version,
        previousVersion: was?.state === 'Installed' ? was.version : null,
        outcome: now.state === 'InstallFailed' ? 'InstallFailed' : updated ? 'Updated' : 'Installed',
        error: now.state === 'InstallFailed' ? normaliseError(entry.errorDetails ?? entry.lastError) : null,
        operationId: now.operationId,
        seenAt,
      });
    }
    return items.length ? { kind: 'finished', cursor: key, items } : { kind: 'unchanged', cursor: key };
  }
}
