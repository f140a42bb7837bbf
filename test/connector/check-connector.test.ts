// `npm run check-connector -- <folder>`: the project's connector rules on a package folder, as a
// user runs them. Passes on the committed package and on both built variants, fails with readable
// findings (exit 1) on a broken package and with usage help (exit 2) on a wrong folder.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { buildConnector } from '../../scripts/build-connector.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/check-connector.ts'), ...args], {
    encoding: 'utf8',
    cwd: root,
  });

const dir = mkdtempSync(join(tmpdir(), 'check-connector-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('the committed package (connector/ with the root definition) has no findings', async (t) => {
  const result = run('connector');
  t.equal(result.status, 0, result.stderr);
  t.match(result.stdout, /connector package connector: no findings/);
});

t.test('both built variants have no findings, checked against their real host', async (t) => {
  for (const auth of ['entra', 'apikey'] as const) {
    const out = join(dir, auth);
    await buildConnector({ host: 'relay.contoso.com', auth, out, clientId: '11111111-2222-3333-4444-555555555555', resourceUri: 'api://relay' });
    const result = run(out, '--host', 'relay.contoso.com');
    t.equal(result.status, 0, `${auth}: ${result.stderr}`);
  }
});

t.test('a broken package: exit 1 and one readable line per finding', async (t) => {
  const broken = join(dir, 'broken');
  cpSync(join(dir, 'entra'), broken, { recursive: true });
  const file = join(broken, 'apiDefinition.swagger.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  doc.info.title = 'Admin Relay API';
  doc.paths['/v1/environments'].get.responses['200'].schema = undefined;
  writeFileSync(file, JSON.stringify(doc));
  const result = run(broken, '--host', 'relay.fabrikam.com');
  t.equal(result.status, 1);
  t.match(result.stderr, /finding/);
  t.match(result.stderr, /- info\.title must not name API/);
  t.match(result.stderr, /- GET \/v1\/environments: exactly one response must carry a schema/);
  t.match(result.stderr, /- host is relay\.contoso\.com, expected relay\.fabrikam\.com/);
});

t.test('a wrong folder or no folder: exit 2 with what to give', async (t) => {
  const missing = run(join(dir, 'nowhere'));
  t.equal(missing.status, 2);
  t.match(missing.stderr, /is not a folder/);
  const none = run();
  t.equal(none.status, 2);
  t.match(none.stderr, /usage: npm run check-connector -- <package folder>/);
});
