// `npm run build` ends here: the relay as a bundle in dist/bundle/, which is what `npm start` and the
// container run. A cold start then reads a handful of files instead of about 1,500 modules from
// node_modules: module loading was the largest share of a replica's wake-up (see the README's
// benchmark section). The embedded simulator is its own chunk, loaded only in simulator mode.
//
// Left outside the bundle: packages that find files next to their own code (@fastify/swagger-ui
// serves its static folder, @fastify/swagger reads its package.json, node-pg-migrate loads
// migration files) and pg's optional native binding. The migrations are emitted beside the bundle,
// where the migration runner looks for them. Also outside: what Fastify requires only on paths the
// relay never takes (its default Ajv and fast-json-stringify compilers, light-my-request for
// inject()); bundled, their half a megabyte would still be parsed at every start.
import { readdirSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { build } from 'esbuild';

// --outdir=… builds elsewhere (the bundle test builds its own copy).
const outdir = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length) || 'dist/bundle';
const MIGRATIONS = 'src/state/postgres/migrations';
const migrationEntries = Object.fromEntries(
  readdirSync(MIGRATIONS)
    .filter((file) => extname(file) === '.ts')
    .map((file) => [`migrations/${basename(file, '.ts')}`, `${MIGRATIONS}/${file}`]),
);

await build({
  entryPoints: { relay: 'src/main.ts', ...migrationEntries },
  outdir,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external: [
    '@fastify/swagger-ui',
    '@fastify/swagger',
    'node-pg-migrate',
    'pg-native',
    '@fastify/ajv-compiler',
    '@fastify/fast-json-stringify-compiler',
    'light-my-request',
  ],
  // CommonJS packages inside an ES module bundle still call require() for Node's own modules.
  banner: { js: "import { createRequire as __relayRequire } from 'node:module'; const require = __relayRequire(import.meta.url);" },
  logLevel: 'warning',
});
