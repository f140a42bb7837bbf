// The README's configuration table is what users read first: it must list exactly the variables
// src/config.ts reads, no more and no fewer.
import { readFileSync } from 'node:fs';
import t from 'tap';

const configSource = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
const schemaBlock = configSource.slice(configSource.indexOf('const rawSchema = z.object({'), configSource.indexOf('export interface Config'));
const read = new Set([...schemaBlock.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!));

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
const documented = new Set([...table.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| ([^|]+) \|/gm)].map((m) => m[1]!));

t.ok(read.size > 20, `config.ts variables found (${read.size})`);
t.same([...read].filter((v) => !documented.has(v)), [], 'every variable config.ts reads is in the README table');
t.same([...documented].filter((v) => !read.has(v)), [], 'the README table lists no variable config.ts ignores');
t.ok(
  [...table.matchAll(/^\| `[A-Z][A-Z0-9_]+` \| ([^|]+) \|/gm)].every((m) => m[1]!.trim().length > 0),
  'every variable has a default column',
);
