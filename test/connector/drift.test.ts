// The committed apiDefinition.swagger.json and openapi.json must be exactly what the route schemas
// generate today; when this fails, run `npm run swagger` and commit the result (and check the change is intended:
// renaming an operation or a field breaks flows that use it).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { buildDefinition, committedContractText, committedDefinitionText } from '../../scripts/connector-definition.js';

const committedPath = fileURLToPath(new URL('../../apiDefinition.swagger.json', import.meta.url));

t.test('the committed definition equals the generated one', async (t) => {
  const generated = await committedDefinitionText();
  const committed = readFileSync(committedPath, 'utf8');
  if (generated !== committed) {
    const a = JSON.parse(committed);
    const b = JSON.parse(generated);
    const ops = (d: { paths: Record<string, object> }) =>
      Object.entries(d.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
    t.same(ops(a), ops(b), 'operations (committed vs generated)');
    t.same(a, b, 'content (committed vs generated)');
  }
  t.equal(committed, generated, 'apiDefinition.swagger.json is stale: run `npm run swagger` and commit it');
});

t.test('generation is deterministic and needed no simplification', async (t) => {
  const [one, two] = [await committedDefinitionText(), await committedDefinitionText()];
  t.equal(one, two);
  const { warnings } = await buildDefinition();
  t.same(warnings, [], 'every route schema fits OpenAPI 2.0 without being simplified');
});

t.test('the committed full contract equals the generated one', async (t) => {
  const generated = await committedContractText();
  const committed = readFileSync(fileURLToPath(new URL('../../openapi.json', import.meta.url)), 'utf8');
  if (generated !== committed) t.same(JSON.parse(committed), JSON.parse(generated), 'content (committed vs generated)');
  t.equal(committed, generated, 'openapi.json is stale: run `npm run swagger` and commit it');
  t.equal(await committedContractText(), generated, 'generation is deterministic');
});
