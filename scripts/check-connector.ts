// npm run check-connector -- <folder> [--host relay.contoso.com] [--resource-uri api://…]
// Runs the project's connector rules (scripts/connector-check) on a connector package folder: the
// one `npm run connector` writes, or `connector` for the committed package (its settings.json
// points at ../apiDefinition.swagger.json). Prints one line per finding; exits 1 when there is any,
// 2 when the folder or the arguments are wrong.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkPackage, type PackageFiles } from './connector-check/connector-rules.js';

export class CheckUsageError extends Error {}

/** The package's files: where its settings.json says, or the names `npm run connector` writes. */
export function packageFiles(folder: string): PackageFiles {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new CheckUsageError(`${folder} is not a folder; give the folder npm run connector wrote, or connector for the committed package`);
  const settingsPath = join(dir, 'settings.json');
  let settings: Record<string, unknown> = {};
  if (existsSync(settingsPath)) {
    try {
      settings = JSON.parse(readFileSync(settingsPath, 'utf8'));
    } catch {
      // checkPackage reports the broken settings.json itself.
    }
  }
  const at = (key: string, fallback: string) => join(dir, typeof settings[key] === 'string' ? (settings[key] as string) : fallback);
  const readme = ['readme.md', 'README.md'].map((n) => join(dir, n)).find((p) => existsSync(p));
  return {
    definition: at('apiDefinition', 'apiDefinition.swagger.json'),
    properties: at('apiProperties', 'apiProperties.json'),
    icon: at('icon', 'icon.png'),
    ...(existsSync(settingsPath) ? { settings: settingsPath } : {}),
    ...(readme ? { readme } : {}),
  };
}

export function checkConnectorFolder(folder: string, expect: { host?: string; resourceUri?: string } = {}): string[] {
  return checkPackage(packageFiles(folder), expect);
}

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { host: { type: 'string' }, 'resource-uri': { type: 'string' } },
  });
  if (positionals.length !== 1)
    throw new CheckUsageError('usage: npm run check-connector -- <package folder> [--host <public host>] [--resource-uri <relay app ID URI>]');
  const folder = positionals[0]!;
  const findings = checkConnectorFolder(folder, { host: values.host, resourceUri: values['resource-uri'] });
  if (findings.length === 0) {
    console.log(`connector package ${folder}: no findings`);
    return 0;
  }
  console.error(`connector package ${folder}: ${findings.length} finding${findings.length === 1 ? '' : 's'}`);
  for (const f of findings) console.error(`  - ${f}`);
  return 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  try {
    process.exitCode = main();
  } catch (err) {
    console.error(err instanceof CheckUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? (err as Error).message : err);
    process.exitCode = 2;
  }
}
