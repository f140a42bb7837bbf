// Both committed documents pass @stoplight/spectral-cli with the built-in spectral:oas ruleset
// (.spectral.yaml) without errors, run as CI runs it: the CLI on the files. The last test shows the
// check can fail: a nullable $ref (what the definition once had) is an error.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve('@stoplight/spectral-cli/package.json')), 'dist/index.js');

interface Finding {
  code: string;
  message: string;
  severity: number;
  source?: string;
  path: string[];
}

/** Runs `spectral lint` on the files; returns its findings (severity 0 = error). */
async function spectral(...files: string[]): Promise<Finding[]> {
  const run = promisify(execFile)(
    process.execPath,
    [cli, 'lint', '--ruleset', join(root, '.spectral.yaml'), '--format', 'json', '--quiet', ...files],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  );
  // spectral exits 1 when it reports errors; its JSON is on stdout either way.
  const { stdout } = await run.catch((err: { stdout?: string; stderr?: string }) => {
    if (!err.stdout) throw new Error(`spectral did not run: ${err.stderr ?? String(err)}`);
    return { stdout: err.stdout };
  });
  return JSON.parse(stdout || '[]') as Finding[];
}

const describe = (f: Finding) => `${f.source ?? ''} ${f.code} at ${f.path.join('.')}: ${f.message}`;

t.test('apiDefinition.swagger.json and openapi.json have no spectral:oas errors', async (t) => {
  const findings = await spectral('apiDefinition.swagger.json', 'openapi.json');
  t.same(findings.filter((f) => f.severity === 0).map(describe), [], 'no errors');
});

t.test('the check fails on an error: a $ref with x-nullable beside it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spectral-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const doc = JSON.parse(readFileSync(join(root, 'apiDefinition.swagger.json'), 'utf8'));
  doc.definitions.Package.properties.error = { $ref: '#/definitions/Environment', 'x-nullable': true };
  const file = join(dir, 'broken.swagger.json');
  writeFileSync(file, JSON.stringify(doc));
  const errors = (await spectral(file)).filter((f) => f.severity === 0);
  t.ok(errors.some((f) => f.code === 'no-$ref-siblings'), errors.map(describe).join('\n') || 'no errors found');
});
