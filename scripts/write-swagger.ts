// npm run swagger: writes apiDefinition.swagger.json (the connector definition) and openapi.json
// (the full contract) at the project root from the route schemas, with the placeholder host (the
// connector build and the served endpoints put in the real one).
// test/connector/drift.test.ts fails when a committed file differs from this output.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serializeDefinition } from '../src/connector-definition/openapi-document.js';
import { buildDefinition, committedContractText } from './connector-definition.js';

const out = fileURLToPath(new URL('../apiDefinition.swagger.json', import.meta.url));
const { definition, warnings } = await buildDefinition();
writeFileSync(out, serializeDefinition(definition));
const count = Object.values(definition.paths as Record<string, object>).reduce(
  (n, item) => n + Object.keys(item).length,
  0,
);
console.log(`wrote ${out}: ${count} operations`);
for (const w of warnings) console.warn(`warning: ${w}`);
const contractOut = fileURLToPath(new URL('../openapi.json', import.meta.url));
writeFileSync(contractOut, await committedContractText());
console.log(`wrote ${contractOut}`);
