// Builds the relay with a configuration that needs no upstream and returns its connector definition
// for a given host. `npm run swagger`, `npm run connector` and the drift test share it, so the
// committed file, the deployable folder and the test all come from one code path.
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { connectorDefinition, connectorDefinitionWarnings } from '../src/connector-definition/documents-app.js';
import { type DefinitionTarget, PLACEHOLDER_HOST } from '../src/connector-definition/openapi.js';
import { generateContract } from '../src/connector-definition/openapi-contract.js';
import { serializeDefinition } from '../src/connector-definition/openapi-document.js';
import type { UpstreamClients } from '../src/upstream/types.js';

/** Upstream clients that refuse every call: generating the definition never calls a route. */
export function unreachableUpstream(): UpstreamClients {
  const refuse = () => {
    throw new Error('the definition build has no upstream; this call should not happen');
  };
  const section = new Proxy({}, { get: () => refuse });
  return {
    appManagement: section,
    environments: section,
    tenant: section,
    isolation: section,
    tenantDiscovery: section,
    checkReady: refuse,
    close: async () => {},
  } as unknown as UpstreamClients;
}

export interface BuiltDefinition {
  definition: Record<string, unknown>;
  warnings: string[];
}

async function withDefinitionApp<T>(use: (app: Awaited<ReturnType<typeof buildApp>>) => T | Promise<T>): Promise<T> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    AUDIT_STORE: 'memory',
    UPSTREAM: 'simulator',
    PUBLIC_BASE_URL: `https://${PLACEHOLDER_HOST}`,
  });
  const app = await buildApp({ config, upstream: unreachableUpstream() });
  try {
    await app.ready();
    return await use(app);
  } finally {
    await app.close();
  }
}

export async function buildDefinition(target: Partial<DefinitionTarget> = {}): Promise<BuiltDefinition> {
  return withDefinitionApp(async (app) => ({
    definition: await connectorDefinition(app, { host: PLACEHOLDER_HOST, ...target }),
    warnings: await connectorDefinitionWarnings(app),
  }));
}

/** The full contract (OpenAPI 3.1) with the placeholder host and both sign-ins the relay supports. */
export async function buildContract(): Promise<Record<string, unknown>> {
  return withDefinitionApp((app) => generateContract(app, { serverUrl: `https://${PLACEHOLDER_HOST}`, auth: 'all' }));
}

/** The exact text of the committed openapi.json. */
export async function committedContractText(): Promise<string> {
  return serializeDefinition(await buildContract());
}

/** The exact text of the committed apiDefinition.swagger.json. */
export async function committedDefinitionText(): Promise<string> {
  const { definition } = await buildDefinition();
  return serializeDefinition(definition);
}
