// Reads a V8 .cpuprofile (node --cpu-prof) and says where the CPU went, grouped so that a reader
// can act on it: by the relay's own concerns (routing, auth, rate limit, logging, validation, the
// upstream call...) rather than by a thousand function names.
//
// Each sample is charged twice:
//   - leaf: the group of the function that was on the CPU (GC, TLS, JSON.parse, a package...);
//   - owner: the nearest frame up the stack that is a package or a relay source file, so that
//     node internals and V8 builtins (JSON.parse, Buffer, streams) count for whoever called them.
//     GC, idle and "(program)" stay as they are: they have no caller. Socket writes (writev and
//     the string writes: a syscall that on loopback also runs the receiver's kernel path, and for
//     TLS the encryption) are split out by who wrote, since no library change makes them cheaper
//     except writing less often.
// Frames in the bundle (dist/bundle/) are first mapped back to their original files.
import { withOriginalFrames } from './bundle-frames.js';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  group: string;
  ms: number;
  /** Share of the non-idle CPU time in the window. */
  share: number;
}

export interface Summary {
  windowMs: number;
  busyMs: number;
  idleMs: number;
  leaf: Row[];
  owner: Row[];
  /** Self time by "function (file)", the top entries, for looking closer. */
  functions: Row[];
  /** Time with a relay function on the stack (anywhere), by "function (file)": what a relay step costs
   *  with everything it calls synchronously. Overlapping: a caller includes its callees. */
  relayInclusive: Row[];
  /** Busy ms per time bucket and the groups (owner) that took most of it: a timeline of a start. */
  timeline: Array<{ fromMs: number; busyMs: number; top: Array<[string, number]> }>;
}

/** Samples between fromUs and toUs (the profile's clock is CLOCK_MONOTONIC, as process.hrtime). */
export function summarise(bundled: CpuProfile, window: { fromUs?: number; toUs?: number; bucketMs?: number } = {}): Summary {
  const profile = withOriginalFrames(bundled);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const leaf = new Map<string, number>();
  const owner = new Map<string, number>();
  const functions = new Map<string, number>();
  const ownerOf = new Map<number, string>();
  const inclusive = new Map<string, number>();
  const relayFramesOf = new Map<number, string[]>();
  const bucketUs = (window.bucketMs ?? 100) * 1000;
  const buckets = new Map<number, Map<string, number>>();
  let t = profile.startTime;
  let idleUs = 0;
  let busyUs = 0;
  const from = window.fromUs ?? Number.NEGATIVE_INFINITY;
  const to = window.toUs ?? Number.POSITIVE_INFINITY;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t < from || t > to) continue;
    const node = byId.get(profile.samples[i] ?? -1);
    if (!node) continue;
    const g = leafGroup(node.callFrame);
    if (g === 'idle') {
      idleUs += dt;
      continue;
    }
    busyUs += dt;
    add(leaf, g, dt);
    const o = ownerGroup(node, byId, parent, ownerOf);
    add(owner, o, dt);
    for (const f of relayFrames(node, byId, parent, relayFramesOf)) add(inclusive, f, dt);
    const b = Math.floor((t - Math.max(from, profile.startTime)) / bucketUs);
    if (!buckets.has(b)) buckets.set(b, new Map());
    add(buckets.get(b) as Map<string, number>, o, dt);
    add(functions, `${node.callFrame.functionName || '(anonymous)'} (${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1})`, dt);
  }
  const rows = (m: Map<string, number>, limit = Number.POSITIVE_INFINITY): Row[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([group, us]) => ({ group, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  const first = Math.max(from, profile.startTime);
  const last = Math.min(to, profile.endTime);
  const timeline = [...buckets.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([b, m]) => ({
      fromMs: (b * bucketUs) / 1000,
      busyMs: [...m.values()].reduce((x, y) => x + y, 0) / 1000,
      top: [...m.entries()]
        .sort((x, y) => y[1] - x[1])
        .slice(0, 3)
        .map(([g, us]): [string, number] => [g, us / 1000]),
    }));
  return {
    windowMs: (last - first) / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    leaf: rows(leaf),
    owner: rows(owner),
    functions: rows(functions, 40),
    relayInclusive: rows(inclusive, 40),
    timeline,
  };
}

function add(m: Map<string, number>, k: string, v: number) {
  m.set(k, (m.get(k) ?? 0) + v);
}

/** Which package a node_modules path belongs to (scoped packages keep their scope). */
export function packageOf(url: string): string | undefined {
  const i = url.lastIndexOf('/node_modules/');
  if (i < 0) return undefined;
  const parts = url.slice(i + '/node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

// Packages grouped by the concern they serve in the relay.
const PACKAGE_GROUPS: Record<string, string> = {
  fastify: 'fastify routing/hooks',
  'find-my-way': 'fastify routing/hooks',
  avvio: 'fastify routing/hooks',
  'fastify-plugin': 'fastify routing/hooks',
  'light-my-request': 'fastify routing/hooks',
  'fast-querystring': 'fastify routing/hooks',
  'fast-decode-uri-component': 'fastify routing/hooks',
  'safe-regex2': 'fastify routing/hooks',
  'toad-cache': 'fastify routing/hooks',
  '@fastify/error': 'fastify routing/hooks',
  '@fastify/proxy-addr': 'fastify routing/hooks',
  'proxy-addr': 'fastify routing/hooks',
  'abstract-logging': 'fastify routing/hooks',
  'process-warning': 'fastify routing/hooks',
  'fast-json-stringify': 'fastify serialiser (fast-json-stringify)',
  '@fastify/fast-json-stringify-compiler': 'fastify serialiser (fast-json-stringify)',
  '@fastify/rate-limit': 'rate limit',
  helmet: 'helmet headers',
  pino: 'pino/redaction',
  'pino-std-serializers': 'pino/redaction',
  'fast-redact': 'pino/redaction',
  '@pinojs/redact': 'pino/redaction',
  'sonic-boom': 'pino/redaction',
  'thread-stream': 'pino/redaction',
  'atomic-sleep': 'pino/redaction',
  'on-exit-leak-free': 'pino/redaction',
  'quick-format-unescaped': 'pino/redaction',
  'safe-stable-stringify': 'pino/redaction',
  zod: 'zod validation/serialisation',
  'fastify-type-provider-zod': 'zod validation/serialisation',
  undici: 'undici (upstream client)',
  'prom-client': 'metrics (prom-client)',
  '@azure/identity': 'credentials (@azure/identity, msal)',
  '@azure/msal-node': 'credentials (@azure/identity, msal)',
  '@azure/msal-common': 'credentials (@azure/identity, msal)',
  '@azure/core-rest-pipeline': 'credentials (@azure/identity, msal)',
  '@azure/core-auth': 'credentials (@azure/identity, msal)',
  '@azure/core-util': 'credentials (@azure/identity, msal)',
  '@azure/core-tracing': 'credentials (@azure/identity, msal)',
  '@azure/logger': 'credentials (@azure/identity, msal)',
  '@azure/abort-controller': 'credentials (@azure/identity, msal)',
  jose: 'jose (JWT)',
  '@fastify/swagger': 'swagger/OpenAPI generation',
  '@fastify/swagger-ui': 'Swagger UI',
  'json-schema-resolver': 'swagger/OpenAPI generation',
  yaml: 'swagger/OpenAPI generation',
  selfsigned: 'certificate generation (selfsigned, node-forge)',
  'node-forge': 'certificate generation (selfsigned, node-forge)',
  '@peculiar/x509': 'certificate generation (selfsigned, node-forge)',
  pkijs: 'certificate generation (selfsigned, node-forge)',
  asn1js: 'certificate generation (selfsigned, node-forge)',
  pg: 'PostgreSQL client',
  'pg-pool': 'PostgreSQL client',
  'pg-protocol': 'PostgreSQL client',
  ajv: 'ajv (fastify schema compiler)',
  'fast-uri': 'ajv (fastify schema compiler)',
  'json-schema-traverse': 'ajv (fastify schema compiler)',
  'fast-deep-equal': 'ajv (fastify schema compiler)',
};

// Relay source files grouped by concern; the rest are reported by their path.
const SOURCE_GROUPS: Array<[RegExp, string]> = [
  [/\/src\/simulator\//, 'embedded simulator'],
  [/\/src\/http\/(auth|api-keys|caller|entra|failed-auth-budget|wait-signature|client-address|forwarded-origin)\./, 'auth (relay)'],
  [/\/src\/http\/rate-limit\./, 'rate limit'],
  [/\/src\/http\/security-headers\./, 'helmet headers'],
  [/\/src\/http\/logging\./, 'pino/redaction'],
  [/\/src\/http\/metrics\./, 'metrics (relay)'],
  [/\/src\/http\//, 'http plumbing (relay)'],
  [/\/src\/connector-definition\//, 'swagger/OpenAPI generation'],
  [/\/src\/upstream\/(token-provider|identity-http-client|tenant-discovery)\./, 'credentials (relay)'],
  [/\/src\/upstream\//, 'upstream call (relay)'],
  [/\/src\/state\//, 'state stores (relay)'],
  [/\/src\/installs\/(package-model|environment-packages|package-suggestions|install-status)\./, 'domain: normalise/validate (relay)'],
  [/\/src\/isolation\/(policy|change|policy-snapshot|tenant-id)\./, 'domain: normalise/validate (relay)'],
  [/\/src\/(installs|isolation|system)\//, 'routes/services (relay)'],
];

function leafGroup(f: CpuProfileNode['callFrame']): string {
  const fn = f.functionName;
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return '(program: V8/native, unattributed)';
  if (fn === '(root)') return '(root)';
  const own = codeGroup(f.url);
  if (own) return own;
  if (fn === 'parse' && f.url === '') return 'JSON.parse';
  if (fn === 'stringify' && f.url === '') return 'JSON.stringify';
  if (/node:(_tls|tls|internal\/tls)/.test(f.url)) return 'node TLS';
  if (/node:(_http|http|internal\/http)/.test(f.url)) return 'node http';
  if (/node:(net|internal\/stream|stream|internal\/streams|events|internal\/net)/.test(f.url)) return 'node net/streams/events';
  if (/node:internal\/(modules|vm|process\/esm|bootstrap)/.test(f.url)) return 'module loading (node)';
  if (f.url === '') return `V8 builtin/native: ${fn || '(anonymous)'}`;
  return `node internal: ${f.url.replace(/^node:/, '')}`;
}

/** A package or relay source file's group, or undefined for node internals and builtins. */
function codeGroup(url: string): string | undefined {
  const pkg = packageOf(url);
  if (pkg) return PACKAGE_GROUPS[pkg] ?? `package ${pkg}`;
  for (const [re, g] of SOURCE_GROUPS) if (re.test(url)) return g;
  const src = /\/(src\/.*|bench\/.*)$/.exec(url);
  return src ? `relay ${src[1]?.replace(/\.(js|ts)$/, '')}` : undefined;
}

function ownerGroup(
  node: CpuProfileNode,
  byId: Map<number, CpuProfileNode>,
  parent: Map<number, number>,
  memo: Map<number, string>,
): string {
  const cached = memo.get(node.id);
  if (cached) return cached;
  const fn = node.callFrame.functionName;
  let g: string | undefined;
  if (fn === '(garbage collector)' || fn === '(program)' || fn === '(root)') g = leafGroup(node.callFrame);
  for (let n: CpuProfileNode | undefined = node; !g && n; n = byId.get(parent.get(n.id) ?? -1)) g = codeGroup(n.callFrame.url);
  let result = g ?? `node/V8 with no caller in the app: ${leafGroup(node.callFrame)}`;
  if (node.callFrame.url === '' && SOCKET_WRITES.has(fn)) result = `socket write (native, syscall) by ${result}`;
  memo.set(node.id, result);
  return result;
}

/** Distinct "function (file:line)" of the relay's own frames on a node's stack. */
function relayFrames(node: CpuProfileNode, byId: Map<number, CpuProfileNode>, parent: Map<number, number>, memo: Map<number, string[]>): string[] {
  const cached = memo.get(node.id);
  if (cached) return cached;
  const up = byId.get(parent.get(node.id) ?? -1);
  const above = up ? relayFrames(up, byId, parent, memo) : [];
  const f = node.callFrame;
  const own = /\/(dist\/)?src\//.test(f.url) && !f.url.includes('/node_modules/') ? `${f.functionName || '(top level)'} (${shortUrl(f.url)}:${f.lineNumber + 1})` : undefined;
  const result = own && !above.includes(own) ? [...above, own] : above;
  memo.set(node.id, result);
  return result;
}

const SOCKET_WRITES = new Set(['writev', 'writeBuffer', 'writeLatin1String', 'writeUtf8String', 'writeAsciiString', 'writeUcs2String']);

function shortUrl(url: string): string {
  const pkg = url.lastIndexOf('/node_modules/');
  if (pkg >= 0) return url.slice(pkg + '/node_modules/'.length);
  const src = /\/((?:dist\/)?(?:src|bench)\/.*)$/.exec(url);
  return src?.[1] ?? url.replace(/^file:\/\//, '');
}

export function renderSummary(s: Summary, opts: { perRequestOf?: number; top?: number; timeline?: boolean } = {}): string {
  const top = opts.top ?? 20;
  const lines = [
    `window ${s.windowMs.toFixed(0)} ms: busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms` +
      (opts.perRequestOf ? `; ${opts.perRequestOf} requests, ${((s.busyMs * 1000) / opts.perRequestOf).toFixed(0)} µs CPU per request` : ''),
  ];
  const table = (title: string, rows: Row[]) => {
    lines.push('', title, `${'share'.padStart(6)} ${'ms'.padStart(8)}${opts.perRequestOf ? ' µs/req'.padStart(8) : ''}  group`);
    for (const r of rows.slice(0, top)) {
      const per = opts.perRequestOf ? ((r.ms * 1000) / opts.perRequestOf).toFixed(1).padStart(8) : '';
      lines.push(`${(r.share * 100).toFixed(1).padStart(5)}% ${r.ms.toFixed(1).padStart(8)}${per}  ${r.group}`);
    }
  };
  table('by owner (node internals and builtins charged to the package or relay file that called them)', s.owner);
  table('by leaf (what was on the CPU)', s.leaf);
  table('top functions (self time)', s.functions);
  table('relay functions, inclusive (with what they call synchronously; overlapping)', s.relayInclusive);
  if (opts.timeline) {
    lines.push('', 'timeline (busy ms per bucket: the three largest owners)');
    for (const b of s.timeline)
      lines.push(`${b.fromMs.toFixed(0).padStart(6)} ms ${b.busyMs.toFixed(0).padStart(4)}  ${b.top.map(([g, ms]) => `${g} ${ms.toFixed(0)}`).join(' · ')}`);
  }
  return lines.join('\n');
}
