// Faults on demand: a list of specs, matched per call in the order they were added.
// Probabilities come from a seeded PRNG (mulberry32) so a test run is repeatable.
import { randomUUID } from 'node:crypto';
import type { FaultSpec, RouteName } from './types.js';

const PRNG_SEED = 0x5eed;
const KINDS = ['status', 'latency', 'reset', 'outsideWriter', 'replay'] as const;

interface ActiveFault {
  id: string;
  spec: FaultSpec;
  remaining: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Throws with a sentence naming the bad field; used by control() and the HTTP control API. */
export function validateFault(f: unknown): FaultSpec {
  if (!f || typeof f !== 'object')
    throw new Error('A fault must be a JSON object like {"route":"*","kind":"status","status":503}.');
  const spec = f as FaultSpec;
  if (typeof spec.route !== 'string') throw new Error('fault.route is required: a route name or "*".');
  if (!KINDS.includes(spec.kind)) throw new Error(`fault.kind must be one of ${KINDS.join(', ')}.`);
  if (
    spec.kind === 'status' &&
    !(Number.isInteger(spec.status) && spec.status! >= 400 && spec.status! <= 599)
  ) {
    throw new Error('fault.status must be an HTTP error status (400-599) for kind "status".');
  }
  if (spec.kind === 'replay') {
    if (!(Number.isInteger(spec.status) && spec.status! >= 100 && spec.status! <= 599))
      throw new Error('fault.status must be an HTTP status (100-599) for kind "replay".');
    if (spec.after) throw new Error('fault.after is not supported for kind "replay": it answers instead of the route.');
    if (spec.bodyText !== undefined && typeof spec.bodyText !== 'string')
      throw new Error('fault.bodyText must be a string.');
  }
  if (spec.path !== undefined && !(typeof spec.path === 'string' && spec.path.startsWith('/')))
    throw new Error('fault.path must be a request path starting with "/".');
  if (
    spec.headers !== undefined &&
    !(spec.headers && typeof spec.headers === 'object' && Object.values(spec.headers).every((v) => typeof v === 'string'))
  ) {
    throw new Error('fault.headers must be an object of header names to string values.');
  }
  if (spec.kind === 'latency' && !(typeof spec.latencyMs === 'number' && spec.latencyMs >= 0)) {
    throw new Error('fault.latencyMs must be a number of milliseconds for kind "latency".');
  }
  if (spec.probability !== undefined && !(spec.probability >= 0 && spec.probability <= 1)) {
    throw new Error('fault.probability must be between 0 and 1.');
  }
  if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times >= 0)) {
    throw new Error('fault.times must be a non-negative integer.');
  }
  return spec;
}

export class FaultRegistry {
  private faults: ActiveFault[] = [];
  private random = mulberry32(PRNG_SEED);

  add(spec: FaultSpec): string {
    const checked = validateFault(spec);
    const id = randomUUID();
    this.faults.push({ id, spec: { ...checked }, remaining: checked.times ?? Number.POSITIVE_INFINITY });
    return id;
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
    this.random = mulberry32(PRNG_SEED);
  }

  list(): Array<FaultSpec & { id: string; remaining: number | null }> {
    return this.faults.map((f) => ({
      ...f.spec,
      id: f.id,
      remaining: Number.isFinite(f.remaining) ? f.remaining : null,
    }));
  }

  /** The faults of `kinds` that fire on this call; each one fired uses up one of its `times`. */
  take(route: RouteName, kinds: readonly FaultSpec['kind'][], path?: string): Array<{ id: string; spec: FaultSpec }> {
    const fired: Array<{ id: string; spec: FaultSpec }> = [];
    for (const f of this.faults) {
      if (!kinds.includes(f.spec.kind)) continue;
      if (f.spec.route !== '*' && f.spec.route !== route) continue;
      if (f.spec.path !== undefined && f.spec.path.toLowerCase() !== path?.toLowerCase()) continue;
      // One answer per call: replays added in order answer successive calls.
      if (f.spec.kind === 'replay' && fired.some((x) => x.spec.kind === 'replay')) continue;
      if (f.remaining <= 0) continue;
      const p = f.spec.probability ?? 1;
      if (p < 1 && this.random() >= p) continue;
      f.remaining -= 1;
      fired.push({ id: f.id, spec: f.spec });
    }
    this.faults = this.faults.filter((f) => f.remaining > 0);
    return fired;
  }
}
