// Replays the Dockerfile without a Docker engine: every stage in its own clean temp folder, COPY
// from the repository (minus .dockerignore) or from an earlier stage, RUN's npm and mkdir steps, the
// final stage's ENV and CMD. Then it checks what the image promises: no dev dependencies, a
// non-root USER, the process starts on a free port, /healthz answers, the HEALTHCHECK command
// passes, a /v1 call works with the demo key (and not without), and SIGTERM ends it cleanly. Exit code 0 only if all of that holds.
// Steps it cannot replay without root or the base image (chown, apt) are printed as skipped.
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');
const work = mkdtempSync(join(tmpdir(), 'relay-docker-replay-'));
const keep = process.env.KEEP_REPLAY === '1';
const log = (msg: string) => process.stdout.write(`[docker-replay] ${msg}\n`);

class ReplayError extends Error {}
const fail = (msg: string): never => {
  throw new ReplayError(msg);
};

interface Stage {
  name: string;
  dir: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  cmd?: string[];
  healthcheck?: string[];
}

function instructions(text: string): Array<{ op: string; args: string }> {
  const joined = text.replace(/\\\r?\n/g, ' ');
  return joined
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l) ?? fail(`cannot read Dockerfile line: ${l}`);
      return { op: m[1]!.toUpperCase(), args: m[2]!.trim() };
    });
}

function ignoreMatchers(): RegExp[] {
  const file = join(repo, '.dockerignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'))
    .map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`));
}
const ignored = ignoreMatchers();
const isIgnored = (relPath: string) => relPath.split('/').some((seg) => ignored.some((re) => re.test(seg)));

/** Maps a path inside the image (absolute, or relative to WORKDIR) to the stage folder. */
function hostPath(stage: Stage, imagePath: string): string {
  const abs = imagePath.startsWith('/') ? imagePath : join(stage.workdir, imagePath);
  if (abs !== stage.workdir && !abs.startsWith(`${stage.workdir}/`)) fail(`path ${imagePath} is outside WORKDIR ${stage.workdir}; the replay only maps WORKDIR`);
  return join(stage.dir, abs.slice(stage.workdir.length));
}

function copy(stage: Stage, args: string, stages: Map<string, Stage>) {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const dest = paths.pop() ?? fail(`COPY ${args}: no destination`);
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  for (const src of paths) {
    let source: string;
    if (from) {
      const other = stages.get(from) ?? fail(`COPY --from=${from}: no such stage`);
      source = hostPath(other, src);
    } else {
      if (isIgnored(src)) fail(`COPY ${src}: the file is excluded by .dockerignore`);
      source = join(repo, src);
    }
    if (!existsSync(source)) fail(`COPY ${src}: ${source} does not exist`);
    const target = dest.endsWith('/') ? join(hostPath(stage, dest), basename(src)) : hostPath(stage, dest);
    cpSync(source, target, {
      recursive: true,
      filter: (p) => from !== undefined || !isIgnored(p.slice(repo.length + 1)),
    });
    log(`  COPY ${from ? `--from=${from} ` : ''}${src} -> ${dest}`);
  }
}

function run(stage: Stage, args: string) {
  for (const part of args.split('&&').map((s) => s.trim())) {
    if (/^npm\s+cache\b/.test(part)) {
      // Shrinks the image layer; on this machine it would wipe the shared npm cache instead.
      log(`  RUN ${part}  (skipped: would clear this machine's npm cache)`);
    } else if (/^npm\s/.test(part)) {
      log(`  RUN ${part}`);
      // --prefer-offline: use the npm cache when it has the packages (CI machines are mostly offline).
      const command = /^npm ci\b/.test(part) ? `${part} --prefer-offline` : part;
      execSync(command, { cwd: stage.dir, stdio: 'inherit', env: { ...process.env, ...stage.env } });
    } else if (/^mkdir\s/.test(part)) {
      const dirs = part.split(/\s+/).slice(1).filter((w) => !w.startsWith('-'));
      for (const d of dirs) execSync(`mkdir -p '${hostPath(stage, d)}'`);
      log(`  RUN ${part}`);
    } else {
      log(`  RUN ${part}  (skipped: needs root or the base image)`);
    }
  }
}

function jsonArray(args: string, what: string): string[] {
  try {
    const v = JSON.parse(args);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {}
  return fail(`${what} must use the JSON (exec) form, got: ${args}`);
}

function build(): Stage {
  const stages = new Map<string, Stage>();
  let stage: Stage | undefined;
  for (const { op, args } of instructions(readFileSync(join(repo, 'Dockerfile'), 'utf8'))) {
    if (op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? fail(`FROM ${args}`);
      const name = m[2] ?? `stage${stages.size}`;
      if (!/^node:\d+/.test(m[1]!)) fail(`FROM ${m[1]}: the replay expects an official node image`);
      stage = { name, dir: join(work, name), workdir: '/', env: {} };
      stages.set(name, stage);
      log(`FROM ${m[1]} AS ${name} (replayed with local Node ${process.version})`);
      continue;
    }
    const s = stage ?? fail(`${op} before FROM`);
    switch (op) {
      case 'WORKDIR':
        s.workdir = args;
        execSync(`mkdir -p '${s.dir}'`);
        break;
      case 'COPY':
        copy(s, args, stages);
        break;
      case 'RUN':
        run(s, args);
        break;
      case 'ENV': {
        const m = /^(\w+)[= ](.*)$/.exec(args) ?? fail(`ENV ${args}`);
        s.env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
        break;
      }
      case 'USER':
        s.user = args;
        break;
      case 'CMD':
        s.cmd = jsonArray(args, 'CMD');
        break;
      case 'HEALTHCHECK': {
        const i = args.indexOf('CMD ');
        s.healthcheck = jsonArray(i >= 0 ? args.slice(i + 4) : fail('HEALTHCHECK without CMD'), 'HEALTHCHECK CMD');
        break;
      }
      case 'EXPOSE':
      case 'STOPSIGNAL':
      case 'LABEL':
      case 'ARG':
        break;
      default:
        fail(`${op} is not understood by the replay; extend scripts/docker-replay.ts`);
    }
  }
  return stage ?? fail('the Dockerfile has no FROM');
}

function checkRuntime(stage: Stage) {
  if (!stage.user || stage.user === 'root' || stage.user === '0') fail('the final stage must switch to a non-root USER');
  if (!stage.cmd) fail('the final stage has no CMD');
  if (!stage.healthcheck) fail('the final stage has no HEALTHCHECK');
  if (stage.env.HOST !== '0.0.0.0' || stage.env.PORT !== '3000') fail('the image must listen on 0.0.0.0:3000 (ENV HOST and PORT)');
  // Dev-only packages per the lockfile (a dev dependency that a production one also needs is not dev-only).
  const lock = JSON.parse(readFileSync(join(stage.dir, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, { dev?: boolean }>;
  };
  const devOnly = Object.entries(lock.packages ?? {}).filter(([path, p]) => p.dev && path.startsWith('node_modules/'));
  if (devOnly.length === 0) fail('the lockfile marks no package as dev-only; cannot check the production install');
  const present = devOnly.map(([path]) => path).filter((path) => existsSync(join(stage.dir, path)));
  if (present.length) fail(`dev dependencies ended up in the runtime stage: ${present.join(', ')}`);
  const entries = readdirSync(stage.dir).sort();
  log(`runtime stage holds: ${entries.join(', ')}`);
  if (entries.includes('src') || entries.includes('test')) fail('sources or tests ended up in the runtime stage');
  const entry = join(stage.dir, stage.cmd![stage.cmd!.length - 1]!);
  if (!existsSync(entry) || !statSync(entry).isFile()) fail(`CMD entry ${entry} does not exist after the build`);
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

async function start(stage: Stage) {
  const port = await freePort();
  // Only what the image would have: its ENV, plus the listening address for this machine. No AZURE_*
  // from the caller's shell, so the relay starts in its embedded simulator mode as a newcomer's would.
  const demoKey = `replay-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const env = { PATH: process.env.PATH ?? '', HOME: stage.dir, ...stage.env, HOST: '127.0.0.1', PORT: String(port), DEMO_API_KEY: demoKey };
  const [bin, ...args] = stage.cmd!;
  log(`start: ${stage.cmd!.join(' ')} (HOST=127.0.0.1 PORT=${port})`);
  const child = spawn(bin!, args, { cwd: stage.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | string>((res) => child.once('exit', (code, signal) => res(code ?? String(signal))));
  try {
    await waitHealthy(port, child, 60_000);
    log('/healthz answered 200');
    execSync(stage.healthcheck!.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '), { cwd: stage.dir, env, stdio: 'inherit', timeout: 10_000 });
    log('the HEALTHCHECK command passed');
    // The production install does real work, not just /healthz: an authenticated call through the
    // embedded simulator, and a refused one without the key.
    const base = `http://127.0.0.1:${port}`;
    const refused = await fetch(`${base}/v1/environments`);
    if (refused.status !== 401) fail(`GET /v1/environments without a key answered ${refused.status}, expected 401`);
    const listed = await fetch(`${base}/v1/environments`, { headers: { 'x-api-key': demoKey } });
    const body = (await listed.json().catch(() => undefined)) as { value?: unknown[] } | undefined;
    if (listed.status !== 200 || !Array.isArray(body?.value) || body.value.length === 0) {
      fail(`GET /v1/environments with the demo key answered ${listed.status} ${JSON.stringify(body)}`);
    }
    log(`/v1/environments: 401 without a key, 200 with ${body!.value!.length} environments with it`);
    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 30_000).unref())]);
    if (code !== 0) fail(`after SIGTERM the process ended with ${code} (expected exit code 0 within 30 s)`);
    log(`SIGTERM: exited 0 after ${Date.now() - t0} ms`);
  } catch (err) {
    child.kill('SIGKILL');
    process.stdout.write(`--- relay output ---\n${output.slice(-4000)}\n---\n`);
    throw err;
  }
}

async function waitHealthy(port: number, child: ChildProcess, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) fail(`the relay exited with code ${child.exitCode} before /healthz answered`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  fail(`/healthz did not answer 200 within ${timeoutMs / 1000} s`);
}

try {
  log(`replaying Dockerfile in ${work}`);
  const runtime = build();
  checkRuntime(runtime);
  await start(runtime);
  log('OK');
} catch (err) {
  process.stdout.write(`[docker-replay] FAILED: ${err instanceof ReplayError ? err.message : String((err as Error).stack ?? err)}\n`);
  process.exitCode = 1;
} finally {
  if (keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
