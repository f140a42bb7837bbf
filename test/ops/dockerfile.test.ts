// Static checks of the container recipe (the full replay is scripts/docker-replay.sh in .ci/run):
// current LTS base, production dependencies only, non-root, health check, 0.0.0.0:3000, and a CMD
// that points at what the build writes.
import { readFileSync } from 'node:fs';
import t from 'tap';

const root = new URL('../..', import.meta.url);
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
const stages = dockerfile.split(/^FROM /m).slice(1);
const runtime = stages.at(-1) ?? '';

t.test('multi-stage on the current Node LTS (22), slim Debian', async (t) => {
  t.ok(stages.length >= 2, 'a build stage and a runtime stage');
  for (const s of stages) t.match(s, /^node:22-bookworm-slim\b/);
});

t.test('the build stage installs everything and compiles; the runtime stage takes production deps only', async (t) => {
  t.match(stages[0]!, /RUN npm ci\b/);
  t.match(stages[0]!, /RUN npm run build/);
  t.match(runtime, /RUN npm ci --omit=dev/);
  t.match(runtime, /COPY --from=\w+ \/app\/dist \.\/dist/);
  t.notMatch(runtime, /COPY (src|test)\b/, 'no sources in the runtime image');
});

t.test('runs as a non-root user, on 0.0.0.0:3000, with a health check on /healthz', async (t) => {
  const user = /^USER (\S+)/m.exec(runtime)?.[1];
  t.ok(user && user !== 'root' && user !== '0', `USER ${user}`);
  t.match(runtime, /^ENV HOST=0\.0\.0\.0$/m);
  t.match(runtime, /^ENV PORT=3000$/m);
  t.match(runtime, /^HEALTHCHECK .*CMD \[.*\/healthz/m);
  t.match(runtime, /^EXPOSE 3000$/m);
});

t.test('CMD starts the bundle the build writes, as npm start does', async (t) => {
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)?.[1] ?? 'null') as string[] | null;
  t.same(cmd, ['node', 'dist/bundle/relay.js']);
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> };
  t.equal(pkg.scripts.start, 'node dist/bundle/relay.js');
  t.match(pkg.scripts.build, /tsx scripts\/bundle-relay\.ts/, 'the build writes the bundle');
  t.match(stages[0]!, /^COPY scripts\/bundle-relay\.ts /m, 'the build stage has the bundle script');
  const build = JSON.parse(readFileSync(new URL('tsconfig.build.json', root), 'utf8')) as { include: string[] };
  const base = JSON.parse(readFileSync(new URL('tsconfig.json', root), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string } };
  t.same(build.include, ['src']);
  t.equal(`${base.compilerOptions.outDir}/src/main.js`, 'dist/src/main.js', 'rootDir "." and outDir "dist" put src/main.ts there');
});

t.test('configured only through the environment: no secrets or config files baked in', async (t) => {
  t.notMatch(dockerfile, /AZURE_CLIENT_SECRET|API_KEYS=|WAIT_URL_SECRET=|DEMO_API_KEY=/);
  t.notOk(lines.some((l) => /^COPY .*\.(env|pem|pfx|key)\b/.test(l)));
  const ignore = readFileSync(new URL('.dockerignore', root), 'utf8');
  for (const entry of ['node_modules', '.env', '.git', '*.pem', 'data']) t.match(ignore, new RegExp(`^${entry.replace(/[.*]/g, '\\$&')}$`, 'm'));
});
