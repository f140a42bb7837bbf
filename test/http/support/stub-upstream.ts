// Upstream clients that are never reached: the auth tests only hit probe routes of their own.
import type { UpstreamClients } from '../../../src/upstream/types.js';

const never = async () => {
  throw new Error('upstream is not part of this test');
};

export const unusedUpstream: UpstreamClients = {
  appManagement: { listEnvironmentPackages: never, installPackage: never, getOperation: never },
  environments: { list: never, get: never },
  tenant: { getOwnTenantId: never },
  isolation: { get: never, put: never },
  tenantDiscovery: { resolveDomain: never },
  checkReady: async () => ({ ok: true, detail: 'stub' }),
  close: async () => {},
};
