// The contract between the services and the Power Platform clients. Services depend on these
// interfaces only, so tests can build the app against the simulator (the real clients pointed at
// it) and no feature service knows about HTTP.

/** Per-call context: correlation id (sent as x-ms-client-request-id), optional user token for
 *  on-behalf-of, optional abort signal and deadline. */
export interface CallContext {
  correlationId: string;
  /** The caller's incoming bearer token, used when UPSTREAM_AUTH=obo. */
  userAssertion?: string;
  signal?: AbortSignal;
  /** Absolute epoch ms after which retries stop. */
  deadline?: number;
}

/** ErrorDetails as upstream sends it; errorCode may be a number or a hex string. */
export interface UpstreamErrorDetails {
  errorCode?: number | string | null;
  errorName?: string | null;
  message?: string | null;
  source?: string | null;
  statusCode?: number | null;
  type?: string | null;
}

/** An environment package entry as upstream sends it (only the fields we read are typed). */
export interface RawApplicationPackage {
  id?: string;
  uniqueName: string;
  version?: string;
  localizedName?: string;
  localizedDescription?: string;
  applicationId?: string;
  applicationName?: string | null;
  applicationDescription?: string | null;
  publisherName?: string;
  publisherId?: string;
  learnMoreUrl?: string;
  state?: string;
  instancePackageId?: string | null;
  errorDetails?: UpstreamErrorDetails | null;
  lastError?: UpstreamErrorDetails | null;
  /** The package's latest operation as upstream lists it (the id may be missing or empty). */
  lastOperation?: { operationId?: string | null; [k: string]: unknown } | null;
  [k: string]: unknown;
}

export type InstallStateFilter = 'All' | 'Installed' | 'NotInstalled';

export interface InstallStarted {
  operationId: string;
  /** The absolute Operation-Location URL when upstream gave one on the configured PPAPI host. */
  operationUrl?: string;
  /** The origin of an Operation-Location on another host, which the relay will not call. */
  refusedOperationOrigin?: string;
}

export type OperationStatus = 'NotStarted' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';
export const TERMINAL_OPERATION_STATUSES: readonly OperationStatus[] = ['Succeeded', 'Failed', 'Canceled'];

export interface OperationSnapshot {
  operationId: string;
  status: OperationStatus;
  createdDateTime?: string | null;
  lastActionDateTime?: string | null;
  error?: UpstreamErrorDetails | null;
  statusMessage?: string | null;
  /** Seconds upstream asked us to wait before the next poll, when it said. */
  retryAfterSeconds?: number;
}

export interface AppManagementClient {
  listEnvironmentPackages(
    environmentId: string,
    query: { state?: InstallStateFilter; lcid?: string },
    ctx: CallContext,
  ): Promise<RawApplicationPackage[]>;
  /** POSTs once; never replayed. */
  installPackage(environmentId: string, uniqueName: string, ctx: CallContext): Promise<InstallStarted>;
  /** Reads `operationUrl` (upstream's Operation-Location, on the PPAPI host, its api-version kept)
   *  when given, else the status URL built from the ids. */
  getOperation(environmentId: string, operationId: string, ctx: CallContext, operationUrl?: string): Promise<OperationSnapshot>;
}

export interface Environment {
  id: string;
  displayName: string;
  location?: string;
  environmentSku?: string;
  /** Empty when the environment has no Dataverse. */
  dataverseUrl?: string;
  hasDataverse: boolean;
}

export interface EnvironmentsClient {
  list(ctx: CallContext): Promise<Environment[]>;
  /** null when upstream says the environment does not exist. */
  get(environmentId: string, ctx: CallContext): Promise<Environment | null>;
}

export interface TenantClient {
  /** The tenant id of the identity the relay calls upstream with. */
  getOwnTenantId(ctx: CallContext): Promise<string>;
}

/** The upstream isolation policy document, unknown fields kept as they came. */
export interface RawIsolationPolicy {
  properties?: {
    tenantId?: string;
    isDisabled?: boolean;
    allowedTenants?: Array<{
      tenantId?: string;
      tenantDisplayName?: string;
      direction?: { inbound?: boolean; outbound?: boolean; [k: string]: unknown };
      [k: string]: unknown;
    }>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface IsolationClient {
  /** null when the tenant never configured a policy (404, empty body, `null`). */
  get(tenantId: string, ctx: CallContext): Promise<RawIsolationPolicy | null>;
  /** Full replace; follows 202 + Location to the end. Returns the policy upstream answered with, if any. */
  put(tenantId: string, policy: RawIsolationPolicy, ctx: CallContext): Promise<RawIsolationPolicy | null>;
}

export interface TenantDiscovery {
  /** Tenant id for a verified domain (Entra OpenID discovery), or null when Entra does not know it. */
  resolveDomain(domain: string, ctx: CallContext): Promise<string | null>;
}

/** Optional hooks the upstream clients call so /metrics can count their work. RelayMetrics
 *  (src/http/metrics.ts) implements it; main passes the same object to the clients and to buildApp. */
export interface UpstreamObserver {
  /** One HTTP attempt. status: the HTTP status, or 'error' for a connection failure or timeout.
   *  attempt: 1 for the first try, 2+ for retries. host: the upstream host name (from config). */
  upstreamCall(call: { host: string; status: number | 'error'; attempt: number }): void;
  /** A token could not be had. scope: the scope asked for; reason: a short word such as 'obo' or 'credential'. */
  tokenFailure(failure: { scope: string; reason: string }): void;
}

export interface UpstreamClients {
  appManagement: AppManagementClient;
  environments: EnvironmentsClient;
  tenant: TenantClient;
  isolation: IsolationClient;
  tenantDiscovery: TenantDiscovery;
  /** Readiness probe: a token can be had for both surfaces and upstream answers. */
  checkReady(ctx: CallContext): Promise<{ ok: boolean; detail: string }>;
  close(): Promise<void>;
}
