// The environment variables that point the relay at a running simulator. main.ts (embedded
// simulator) and the test harness use this one mapping, so both run the relay the same way.
import { randomBytes } from 'node:crypto';

export interface SimulatorEndpoints {
  origin: string;
  caCertPath: string;
  tenantId: string;
  relayApp: { clientId: string; clientSecret: string; certificatePath?: string };
}

export function simulatorEnv(sim: SimulatorEndpoints): Record<string, string> {
  return {
    UPSTREAM: 'simulator',
    PPAPI_BASE_URL: sim.origin,
    BAP_BASE_URL: sim.origin,
    AZURE_AUTHORITY_HOST: sim.origin,
    AZURE_TENANT_ID: sim.tenantId,
    AZURE_CLIENT_ID: sim.relayApp.clientId,
    AZURE_CLIENT_SECRET: sim.relayApp.clientSecret,
    UPSTREAM_CA_FILE: sim.caCertPath,
  };
}

/**
 * The whole environment of a relay process run in live mode against a running simulator, as a
 * replica woken from zero runs: API keys as given (API_KEYS), a fresh wait-URL secret, quiet logs,
 * loopback on a free port. The build's code-cache warm-up, the benchmark and the replica tests
 * start the relay this way; each adds what it needs on top.
 */
export function liveRelayProcessEnv(sim: SimulatorEndpoints, apiKeys: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    ...simulatorEnv(sim),
    UPSTREAM: 'live',
    AUTH_MODE: 'apikey',
    API_KEYS: apiKeys,
    WAIT_URL_SECRET: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
  };
}
