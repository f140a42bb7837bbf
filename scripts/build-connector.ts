// npm run connector -- --host relay.contoso.com [--auth entra|apikey] [--out dir]
//                      [--client-id <connector app id>] [--resource-uri <relay app id URI>]
// Writes a deployable custom-connector folder: the definition with the real host, apiProperties.json
// for the chosen sign-in, icon.png, settings.json (paconn) and readme.md. Deploy it with
// `pac connector create` or `paconn create` (see connector/README.md).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serializeDefinition } from '../src/connector-definition/openapi-document.js';
import { buildDefinition } from './connector-definition.js';
import {
  apiProperties,
  jsonText,
  PLACEHOLDER_CLIENT_ID,
  PLACEHOLDER_RESOURCE_URI,
  paconnSettings,
} from './connector-files.js';

const HOST = /^[^{}/ :\\]+(?::\d+)?$/;

export interface ConnectorBuildOptions {
  host: string;
  auth: 'entra' | 'apikey';
  out: string;
  clientId?: string;
  resourceUri?: string;
  basePath?: string;
}

export class ConnectorBuildError extends Error {}

/** Accepts a bare host or a URL (https://relay.contoso.com/prefix) and returns host and basePath. */
export function parseHost(value: string): { host: string; basePath: string } {
  if (/^https?:\/\//i.test(value)) {
    const url = new URL(value);
    if (url.protocol !== 'https:')
      throw new ConnectorBuildError(
        `--host ${value}: connectors call https only; use an https URL or a bare host name`,
      );
    return { host: url.host, basePath: url.pathname.replace(/\/+$/, '') || '/' };
  }
  if (!HOST.test(value))
    throw new ConnectorBuildError(
      `--host ${value}: give a bare host such as relay.contoso.com (no scheme, path or spaces)`,
    );
  return { host: value, basePath: '/' };
}

export async function buildConnector(options: ConnectorBuildOptions): Promise<string[]> {
  const { host, basePath } = parseHost(options.host);
  const { definition, warnings } = await buildDefinition({
    host,
    basePath: options.basePath ?? basePath,
    schemes: ['https'],
    auth: options.auth,
  });
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const here = fileURLToPath(new URL('../connector/', import.meta.url));
  writeFileSync(join(out, 'apiDefinition.swagger.json'), serializeDefinition(definition));
  writeFileSync(
    join(out, 'apiProperties.json'),
    jsonText(
      apiProperties(options.auth, {
        clientId: options.clientId ?? PLACEHOLDER_CLIENT_ID,
        resourceUri: options.resourceUri ?? PLACEHOLDER_RESOURCE_URI,
      }),
    ),
  );
  writeFileSync(join(out, 'settings.json'), jsonText(paconnSettings('apiDefinition.swagger.json')));
  copyFileSync(join(here, 'icon.png'), join(out, 'icon.png'));
  copyFileSync(join(here, 'README.md'), join(out, 'readme.md'));
  const notes = [...warnings.map((w) => `warning: ${w}`)];
  if (options.auth === 'entra' && (!options.clientId || !options.resourceUri)) {
    notes.push(
      'note: apiProperties.json keeps placeholder values; pass --client-id (the connector app) and --resource-uri (the relay app ID URI), or edit them before deploying',
    );
  }
  return notes;
}

async function main() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      auth: { type: 'string', default: 'entra' },
      out: { type: 'string' },
      'client-id': { type: 'string' },
      'resource-uri': { type: 'string' },
      'base-path': { type: 'string' },
    },
  });
  if (!values.host)
    throw new ConnectorBuildError('--host is required, e.g. npm run connector -- --host relay.contoso.com');
  if (values.auth !== 'entra' && values.auth !== 'apikey')
    throw new ConnectorBuildError(`--auth ${values.auth}: use entra or apikey`);
  const out =
    values.out ??
    join('connector-out', `${parseHost(values.host).host.replace(/[^A-Za-z0-9.-]/g, '_')}-${values.auth}`);
  const notes = await buildConnector({
    host: values.host,
    auth: values.auth,
    out,
    clientId: values['client-id'],
    resourceUri: values['resource-uri'],
    basePath: values['base-path'],
  });
  console.log(
    `wrote ${resolve(out)}: apiDefinition.swagger.json, apiProperties.json, settings.json, icon.png, readme.md`,
  );
  for (const n of notes) console.log(n);
  console.log(
    `deploy: pac connector create --api-definition-file ${out}/apiDefinition.swagger.json --api-properties-file ${out}/apiProperties.json --icon-file ${out}/icon.png`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(err instanceof ConnectorBuildError ? err.message : err);
    process.exit(err instanceof ConnectorBuildError ? 2 : 1);
  });
}
