// The import rules of the house plan (docs/architecture.md draws them). `npm run depcheck` runs
// them; .ci/run counts a violation as a failed check.
const FEATURES = '(installs|isolation|connector-definition|system)';
const GROUND_FLOOR = '^src/(errors|clock|config|host-port|path-values|trust-store|external-import)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle means two modules cannot be read, tested or moved apart.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'ground-floor-imports-no-feature',
      severity: 'error',
      comment: 'errors.ts, clock.ts, config.ts and the small pure helpers beside them are what every folder may use, so they use none.',
      from: { path: GROUND_FLOOR },
      to: { path: '^src/[^/]+/|^src/(app|main|start-banner)\\.ts$' },
    },
    {
      name: 'upstream-stands-alone',
      severity: 'error',
      comment: 'The upstream clients know Power Platform, not the relay: no feature, http/, state/ or simulator.',
      from: { path: '^src/upstream/' },
      to: { path: `^src/(${FEATURES.slice(1, -1)}|http|state|simulator)/|^src/(app|main)\\.ts$` },
    },
    {
      name: 'http-only-ground-floor',
      severity: 'error',
      comment:
        'http/ holds the Fastify plugins every feature stands on, so it imports only the ground floor, plus ' +
        "upstream's error class and types: the error handler turns an UpstreamError into the relay's error shape, " +
        'and the request context it builds is the one the upstream clients take.',
      from: { path: '^src/http/' },
      to: {
        path: '^src/[^/]+/|^src/(app|main|start-banner)\\.ts$',
        pathNot: ['^src/http/', '^src/upstream/(errors|types)\\.ts$'],
      },
    },
    {
      name: 'features-use-each-others-public-modules-only',
      severity: 'error',
      comment:
        "A feature may use another feature's plugin.ts or public.ts, never its internals.",
      from: { path: `^src/${FEATURES}/` },
      to: {
        path: `^src/${FEATURES}/`,
        pathNot: ['^src/$1/', '^src/[^/]+/(plugin|public)\\.ts$'],
      },
    },
    {
      name: 'state-runs-no-feature-code',
      severity: 'error',
      comment: 'state/ holds the shared-state seams every feature stands on; it runs no feature, http/ or simulator code.',
      from: { path: '^src/state/' },
      to: { path: `^src/(${FEATURES.slice(1, -1)}|http|simulator|upstream)/|^src/(app|main)\\.ts$`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'state-borrows-only-the-isolation-record-types',
      severity: 'error',
      comment:
        'The audit trail stores isolation changes, so its record names the policy and diff types (type-only, ' +
        'erased at build): nothing else of a feature may appear in state/.',
      from: { path: '^src/state/' },
      to: {
        path: `^src/(${FEATURES.slice(1, -1)}|http|simulator|upstream)/`,
        pathNot: ['^src/isolation/(policy|change)\\.ts$'],
      },
    },
    {
      name: 'only-main-builds-the-app',
      severity: 'error',
      comment: 'Plugins get the RelayApp type from http/relay-app.ts; importing app.ts from below it would close a cycle.',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^src/app\\.ts$' },
    },
    {
      name: 'simulator-only-from-main-tests-bench-scripts',
      severity: 'error',
      comment: 'The simulator is for tests, the benchmark, the demo and the scripts; relay code never depends on it.',
      from: { path: '^src/', pathNot: ['^src/main\\.ts$', '^src/simulator/'] },
      to: { path: '^src/simulator/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
