// DATABASE_AUTH=entra: the relay signs in to Azure Database for PostgreSQL with its own Microsoft
// Entra identity, the same one it uses upstream; the access token is the connection's password.
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type TokenCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import type { Config } from '../../config.js';

export const POSTGRES_ENTRA_SCOPE = 'https://ossrdbms-aad.database.windows.net/.default';

/** The relay's application credential (never a user's: state is shared by every caller). */
export function relayCredential(config: Config): TokenCredential {
  const common = { authorityHost: config.authorityHost };
  const tenantId = config.azureTenantId ?? '';
  const clientId = config.azureClientId ?? '';
  if (config.managedIdentity)
    return new ManagedIdentityCredential({ ...(clientId ? { clientId } : {}), ...common });
  if (config.azureFederatedTokenFile)
    return new WorkloadIdentityCredential({
      tenantId,
      clientId,
      tokenFilePath: config.azureFederatedTokenFile,
      ...common,
    });
  if (config.azureClientCertificatePath)
    return new ClientCertificateCredential(
      tenantId,
      clientId,
      { certificatePath: config.azureClientCertificatePath },
      common,
    );
  return new ClientSecretCredential(tenantId, clientId, config.azureClientSecret ?? '', common);
}

/** pg calls this for every new connection; @azure/identity caches the token until near expiry. */
export function entraPassword(credential: TokenCredential): () => Promise<string> {
  return async () => {
    const token = await credential.getToken(POSTGRES_ENTRA_SCOPE);
    if (!token) throw new Error('Microsoft Entra returned no token for Azure Database for PostgreSQL');
    return token.token;
  };
}
