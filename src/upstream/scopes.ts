// The two token scopes, per cloud. They are fixed by the cloud, not by the host we talk to: with
// the simulator PPAPI_BASE_URL points at 127.0.0.1 but the token audience stays the public one,
// exactly as upstream would check it.
import type { AzureCloud } from '../config.js';

export interface UpstreamScopes {
  /** Power Platform API (appmanagement). */
  ppapi: string;
  /** BAP (tenant lookup, environments, isolation policy). */
  bap: string;
}

export const CLOUD_SCOPES: Record<AzureCloud, UpstreamScopes> = {
  public: { ppapi: 'https://api.powerplatform.com/.default', bap: 'https://service.powerapps.com/.default' },
  usgov: {
    ppapi: 'https://api.gov.powerplatform.microsoft.us/.default',
    bap: 'https://gov.service.powerapps.us/.default',
  },
  usgovhigh: {
    ppapi: 'https://api.high.powerplatform.microsoft.us/.default',
    bap: 'https://high.service.powerapps.us/.default',
  },
  dod: { ppapi: 'https://api.appsplatform.us/.default', bap: 'https://service.apps.appsplatform.us/.default' },
  china: {
    ppapi: 'https://api.powerplatform.partner.microsoftonline.cn/.default',
    bap: 'https://service.powerapps.cn/.default',
  },
};

export function scopesFor(cloud: AzureCloud, override?: Partial<UpstreamScopes>): UpstreamScopes {
  return { ...CLOUD_SCOPES[cloud], ...override };
}

const KNOWN_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
  'login.microsoft.com',
  'login.windows.net',
  'login.sts.microsoft.com',
]);

/** Instance discovery asks login.microsoft.com about the authority; it only works for Microsoft's own hosts. */
export function isKnownAuthorityHost(authorityHost: string): boolean {
  try {
    return KNOWN_AUTHORITY_HOSTS.has(new URL(authorityHost).hostname.toLowerCase());
  } catch {
    return false;
  }
}
