// Reads a V8 .heapsnapshot and counts objects by kind and name (constructor for objects, function
// name for closures), with their shallow sizes. Two snapshots taken with different numbers of held
// waits, diffed and divided by the difference in waits, say what one held wait keeps alive.

interface RawSnapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]]; location_fields?: string[] };
  };
  nodes: number[];
  edges: number[];
  locations?: number[];
  strings: string[];
}

export interface Tally {
  count: number;
  bytes: number;
}

/** Key: "type name" (e.g. "object Socket", "closure onTimeout (dist/src/clock.js:12)", "string"). */
export function tallyHeap(json: string): Map<string, Tally> {
  const raw = JSON.parse(json) as RawSnapshot;
  const { meta } = raw.snapshot;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const fType = fields.indexOf('type');
  const fName = fields.indexOf('name');
  const fSize = fields.indexOf('self_size');
  const fEdges = fields.indexOf('edge_count');
  const edgeWidth = meta.edge_fields.length;
  const edgeTypes = meta.edge_types[0];
  const firstEdge = new Uint32Array(raw.nodes.length / width + 1);
  for (let i = 0, e = 0; i < raw.nodes.length; i += width) {
    firstEdge[i / width] = e;
    e += (raw.nodes[i + fEdges] ?? 0) * edgeWidth;
  }
  const nameOf = (node: number) => raw.strings[raw.nodes[node + fName] ?? 0] ?? '';
  /** The node a named (property/internal/context) edge of `node` points to. */
  const follow = (node: number, edgeName: string): number | undefined => {
    const start = firstEdge[node / width] ?? 0;
    const end = start + (raw.nodes[node + fEdges] ?? 0) * edgeWidth;
    for (let e = start; e < end; e += edgeWidth) {
      const t = edgeTypes[raw.edges[e] ?? 0];
      if (t !== 'element' && t !== 'hidden' && raw.strings[raw.edges[e + 1] ?? 0] === edgeName) return raw.edges[e + 2];
    }
    return undefined;
  };
  const lineOf = new Map<number, number>();
  const loc = raw.locations ?? [];
  const locWidth = meta.location_fields?.length ?? 4;
  for (let i = 0; i < loc.length; i += locWidth) lineOf.set(loc[i] ?? 0, (loc[i + 2] ?? 0) + 1);
  /** "name (file:line)" of a closure: which function a held wait keeps, and where it is written. */
  const where = (closure: number): string => {
    const shared = follow(closure, 'shared');
    const script = shared === undefined ? undefined : follow(shared, 'script_or_debug_info');
    const file = script === undefined ? '?' : shortFile(nameOf(script));
    return `${nameOf(closure) || '(anonymous)'} (${file}:${lineOf.get(closure) ?? '?'})`;
  };
  // Anonymous storage (V8 arrays, plain objects, contexts, strings) is named after what holds it:
  // its first retainer and the edge name, e.g. "array (object Pino . bindings)".
  const retainer = new Map<number, string>();
  for (let i = 0; i < raw.nodes.length; i += width) {
    const start = firstEdge[i / width] ?? 0;
    const end = start + (raw.nodes[i + fEdges] ?? 0) * edgeWidth;
    for (let e = start; e < end; e += edgeWidth) {
      const to = raw.edges[e + 2] ?? 0;
      if (retainer.has(to) || !isAnonymous(to)) continue;
      const t = edgeTypes[raw.edges[e] ?? 0];
      if (t === 'weak' || t === 'shortcut') continue;
      const edge = t === 'element' || t === 'hidden' ? '[]' : (raw.strings[raw.edges[e + 1] ?? 0] ?? '');
      const holder = types[raw.nodes[i + fType] ?? 0];
      const holderName = holder === 'closure' ? `closure ${nameOf(i)}` : `${holder} ${nameOf(i)}`;
      retainer.set(to, `${holderName.length > 60 ? `${holderName.slice(0, 57)}...` : holderName} . ${edge}`);
    }
  }
  function isAnonymous(node: number): boolean {
    const type = types[raw.nodes[node + fType] ?? 0];
    if (type === 'array' || type === 'hidden' || type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number') return true;
    const name = nameOf(node);
    return type === 'object' && (name === 'Object' || name === 'Array' || name === 'system / Context');
  }
  const out = new Map<string, Tally>();
  for (let i = 0; i < raw.nodes.length; i += width) {
    const type = types[raw.nodes[i + fType] ?? 0] ?? '?';
    let name = '';
    // Strings, arrays and code have many distinct names: one bucket per type is what matters there.
    if (type === 'object' || type === 'native') name = nameOf(i);
    else if (type === 'closure' && nameOf(i) === 'native_bind') {
      const target = follow(i, 'bound_function');
      name = `bound ${target === undefined ? '?' : where(target)}`;
    } else if (type === 'closure') name = where(i);
    if (isAnonymous(i)) name = `${name ? `${name} ` : ''}(in ${retainer.get(i) ?? '?'})`;
    const key = `${type} ${name.length > 100 ? `${name.slice(0, 97)}...` : name}`.trim();
    const t = out.get(key) ?? { count: 0, bytes: 0 };
    t.count += 1;
    t.bytes += raw.nodes[i + fSize] ?? 0;
    out.set(key, t);
  }
  return out;
}

export interface PerUnit {
  key: string;
  countPerUnit: number;
  bytesPerUnit: number;
}

/** (b − a) / units for every key, largest byte growth first; keys that grow by < minCount per unit dropped. */
export function perUnit(a: Map<string, Tally>, b: Map<string, Tally>, units: number, minCount = 0.5): PerUnit[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  const rows: PerUnit[] = [];
  for (const key of keys) {
    const x = a.get(key) ?? { count: 0, bytes: 0 };
    const y = b.get(key) ?? { count: 0, bytes: 0 };
    const countPerUnit = (y.count - x.count) / units;
    if (countPerUnit < minCount) continue;
    rows.push({ key, countPerUnit, bytesPerUnit: (y.bytes - x.bytes) / units });
  }
  return rows.sort((p, q) => q.bytesPerUnit - p.bytesPerUnit);
}

function shortFile(url: string): string {
  const pkg = url.lastIndexOf('/node_modules/');
  if (pkg >= 0) return url.slice(pkg + '/node_modules/'.length);
  const src = /\/((?:dist\/)?(?:src|bench)\/.*)$/.exec(url);
  return src?.[1] ?? url.replace(/^file:\/\//, '');
}
