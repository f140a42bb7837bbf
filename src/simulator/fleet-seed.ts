// A tenant with many environments (`--environments N`), for rollouts and the benchmark: a
// repeatable mix of what a real fleet has. Environment i (1-based) is, by rule:
//   no Dataverse       every 10th (i % 10 === 0)
//   type               Production, Sandbox, Developer, Trial in turn; region unitedstates, europe, asia in turn
//   Fleet Tracker      offered everywhere with Dataverse except i % 20 === 3 (not offered there);
//                      installed at 1.0.0.0 (update available) where i % 3 === 0, current (2.0.0.0) where i % 7 === 0
//   busy               for 120 simulated seconds after the start where i % 15 === 2 (installs get 409 until then)
//   failing            the install fails where i % 25 === 5
// docs/simulator.md describes it; keep the two in step.
import type { SeedEnvironment, SeedPackage, SimulatorSeed } from './types.js';

export const FLEET_PACKAGE = 'contoso_FleetTracker';
export const FLEET_VERSION = '2.0.0.0';
const TYPES = ['Production', 'Sandbox', 'Developer', 'Trial'] as const;
const REGIONS = ['unitedstates', 'europe', 'asia'] as const;

/** Environment i's id: a GUID that says it is a fleet environment and which one. */
export function fleetEnvironmentId(i: number): string {
  return `f1ee7000-0000-4000-8000-${i.toString().padStart(12, '0')}`;
}

export function fleetEnvironment(i: number): SeedEnvironment {
  const type = TYPES[(i - 1) % TYPES.length]!;
  return {
    id: fleetEnvironmentId(i),
    displayName: `Fleet ${type} ${String(i).padStart(3, '0')}`,
    location: REGIONS[(i - 1) % REGIONS.length]!,
    environmentSku: type,
    ...(i % 10 === 0 ? {} : { dataverseUrl: `https://fleet${i}.crm.dynamics.com/` }),
    ...(i % 15 === 2 ? { busySeconds: 120 } : {}),
  };
}

/** The seed with `count` fleet environments and the fleet package added. The demo packages stay
 *  offered only in the demo environments, so the fleet's picture is the one the rules above give. */
export function withFleet(seed: SimulatorSeed, count: number): SimulatorSeed {
  const fleet = Array.from({ length: count }, (_, k) => fleetEnvironment(k + 1));
  const demoDataverse = seed.environments.filter((e) => e.dataverseUrl).map((e) => e.id);
  const packages = seed.packages.map((p) => ({ ...p, environments: p.environments ?? demoDataverse }));
  const installedIn: Record<string, string> = {};
  const offered: string[] = [];
  const failsIn: string[] = [];
  fleet.forEach((e, k) => {
    const i = k + 1;
    if (!e.dataverseUrl || i % 20 === 3) return;
    offered.push(e.id);
    if (i % 7 === 0) installedIn[e.id] = FLEET_VERSION;
    else if (i % 3 === 0) installedIn[e.id] = '1.0.0.0';
    if (i % 25 === 5) failsIn.push(e.id);
  });
  const fleetPackage: SeedPackage = {
    id: 'f1ee7000-aaaa-4bbb-8ccc-000000000001',
    uniqueName: FLEET_PACKAGE,
    version: FLEET_VERSION,
    localizedName: 'Fleet Tracker',
    localizedDescription: 'Track vehicles and their service visits.',
    applicationId: 'f1ee7000-aaaa-4bbb-8ccc-000000000002',
    publisherName: 'Contoso Ltd',
    publisherId: '99990000-aaaa-4bbb-8ccc-ddddeeeeffff',
    environments: offered,
    installedIn,
    failsIn,
    install: { outcome: 'Succeeded', seconds: 5 },
  };
  return { ...seed, environments: [...seed.environments, ...fleet], packages: [...packages, fleetPackage] };
}
