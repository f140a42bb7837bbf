// The environment variables that point the relay at a running simulator. main.ts (embedded
// simulator) and the test harness use this one mapping, so both run the relay the same way.

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
