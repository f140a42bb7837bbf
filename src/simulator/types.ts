// The simulator's public types. index.ts re-exports all of them; other helpers code against these names.

export interface SimulatorOptions {
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** A seed object, or the path of a JSON seed file (SIMULATOR_SEED). Default: the built-in demo catalog. */
  seed?: SimulatorSeed | string;
  /** Clock multiplier: install durations are divided by it (tests use e.g. 50). Default 1. */
  speed?: number;
  /** Serve with these files; otherwise a self-signed certificate for 127.0.0.1/localhost is made at start. */
  tls?: { keyFile: string; certFile: string };
  /** Fastify request logging. Default false. */
  logger?: boolean;
  /** Adds this many generated environments and a fleet package to the seed (fleet-seed.ts). */
  environments?: number;
}

export interface Simulator {
  /** 'https://127.0.0.1:<port>': every surface on this one origin, with upstream's own paths. */
  origin: string;
  /** Trust this to call the origin (the self-signed certificate is its own CA). */
  caCertPem: string;
  /** The same PEM written to a temporary file. */
  caCertPath: string;
  /** The home tenant (seeded). */
  tenantId: string;
  relayApp: {
    clientId: string;
    clientSecret: string;
    /** PEM with the private key and the certificate, for AZURE_CLIENT_CERTIFICATE_PATH. */
    certificatePath: string;
  };
  control: SimulatorControl;
  close(): Promise<void>;
}

export interface SimulatorControl {
  /** Back to the seed state: faults cleared (the seed's own faults re-applied), call log cleared, speed restored. */
  reset(): void;
  setSpeed(multiplier: number): void;
  /** Moves simulated time forward by `ms` at once (use a tiny speed to freeze time, then step). */
  advanceClock(ms: number): void;
  /** Returns the fault id. */
  addFault(f: FaultSpec): string;
  removeFault(id: string): void;
  clearFaults(): void;
  /** Every upstream request seen, in arrival order (the /_simulator control API is not recorded). */
  calls(filter?: { method?: string; route?: RouteName | 'other' }): CallRecord[];
  /** RS256 JWT signed with the simulator's Entra key (the one published in the JWKS). */
  mintToken(claims: MintTokenOptions): Promise<string>;
  /** The stored raw isolation policy, or undefined when never configured. Default tenant: the home tenant. */
  getPolicy(tenantId?: string): unknown;
  /** Store a raw policy as if an outside writer PUT it (undefined = never configured). Bumps the revision. */
  setPolicy(tenantId: string, raw: unknown | undefined): void;
  /** Number of times the stored policy was written since the seed (0 = as seeded). */
  policyRevision(tenantId?: string): number;
  setOption<K extends keyof SimulatorBehaviour>(k: K, v: SimulatorBehaviour[K]): void;
  /** InstancePackageState of a package in an environment ('None' when offered but not installed). */
  packageState(environmentId: string, uniqueName: string): string | undefined;
}

export type RouteName =
  | 'entra.token'
  | 'entra.discovery'
  | 'entra.jwks'
  | 'ppapi.listPackages'
  | 'ppapi.listTenantPackages'
  | 'ppapi.install'
  | 'ppapi.operation'
  | 'bap.tenant'
  | 'bap.environments'
  | 'bap.environment'
  | 'bap.isolation.get'
  | 'bap.isolation.put'
  | 'bap.isolation.operation';

export const ROUTE_NAMES: readonly RouteName[] = [
  'entra.token',
  'entra.discovery',
  'entra.jwks',
  'ppapi.listPackages',
  'ppapi.listTenantPackages',
  'ppapi.install',
  'ppapi.operation',
  'bap.tenant',
  'bap.environments',
  'bap.environment',
  'bap.isolation.get',
  'bap.isolation.put',
  'bap.isolation.operation',
];

export interface CallRecord {
  /** Epoch ms (wall clock) when the request arrived. */
  at: number;
  method: string;
  route: RouteName | 'other';
  /** The URL path without the query string. */
  path: string;
  /** The full request URL (path and query). */
  url: string;
  /** Response status; 0 when the connection was reset by a fault or the client went away. */
  status: number;
  clientRequestId?: string;
  /** The fault ids applied to this call, if any. */
  faults?: string[];
  /** The parsed JSON body of PPAPI/BAP writes (never recorded for Entra: it carries secrets). */
  body?: unknown;
  /** Who the PPAPI/BAP call's bearer token names (read from its claims, not the token itself):
   *  `user:<upn or oid>` for a delegated token, `app:<appid>` for an app-only one. */
  tokenSubject?: string;
  /** The caller hung up while an injected latency held the request, so it was dropped unhandled
   *  (a write held that way never lands). Tests wait for this instead of sleeping past the latency. */
  droppedCallerGone?: boolean;
}

export interface FaultSpec {
  route: RouteName | '*';
  /** 'replay' answers with exactly `status`, `headers` and `body`/`bodyText` instead of the route
   *  (replaying a captured upstream answer); the route does not run. */
  kind: 'status' | 'latency' | 'reset' | 'outsideWriter' | 'replay';
  /** kind 'status': 429, 500, 503... The body uses the surface's envelope unless `envelope` forces one. */
  status?: number;
  envelope?: 'bap' | 'ppapi';
  /** Retry-After header value. */
  retryAfter?: string;
  /** WWW-Authenticate header value for kind 'status' (e.g. a CAE challenge on a 401:
   *  'Bearer error="insufficient_claims", claims="..."'). */
  wwwAuthenticate?: string;
  /** kind 'latency' (also usable with 'status' and 'reset'). */
  latencyMs?: number;
  /** Apply to the next N matching calls; default unlimited. */
  times?: number;
  /** 0..1, default 1; drawn from a seeded PRNG so runs are repeatable. */
  probability?: number;
  /** kind 'outsideWriter': what the other writer changes. Default 'addRule'. */
  mutate?: 'addRule' | 'toggleEnabled';
  /** kinds 'status' and 'reset': act after the route ran, so upstream did the work (an install started,
   *  a policy stored) but the caller sees the failure or a dropped connection. Default false (before). */
  after?: boolean;
  /** Optional error code/message for kind 'status'. */
  code?: string;
  message?: string;
  /** Extra response headers for kinds 'status' and 'replay' (e.g. a fixed x-ms-correlation-id). */
  headers?: Record<string, string>;
  /** kind 'replay': the JSON body sent (omit both for an empty body). */
  body?: unknown;
  /** kind 'replay': a raw body sent as it is, instead of `body`. */
  bodyText?: string;
  /** Only calls whose path (without the query) is this one, compared without regard to case. */
  path?: string;
}

export interface SimulatorBehaviour {
  /** The install POST's answer. Default 'operation-location': 202 + Operation-Location (with
   *  ?api-version=1) and an empty body, as captured from the real service.
   *  'operation-location-with-body': the same plus an InstancePackage body with lastOperation.
   *  'body-200' / 'body-202': that body, no header. 'bare-202': 202 with neither header nor body
   *  (the caller must find the operation in the package list). */
  installResponse: 'operation-location' | 'operation-location-with-body' | 'body-200' | 'body-202' | 'bare-202';
  /** A second install in a busy environment; default 409. */
  busyStatus: 409 | 400;
  /** async = 202 + Location, the poll answers 202 (Retry-After 1) then 200; default 'sync'.
   *  'async-operation-location': the poll URL comes as Operation-Location instead;
   *  'async-no-location': 202 with no poll URL at all (a client error case; the change still lands after 1 s). */
  isolationPut: 'sync' | 'async' | 'async-operation-location' | 'async-no-location';
  /** GET of a tenant with no policy. Default 'emptyPolicy': 200 with
   *  `{"properties":{"isDisabled":false,"allowedTenants":[]}}` (terraform's fixture for a fresh tenant);
   *  '404', 200 `null`, or 200 with an empty body. */
  neverConfiguredResponse: '404' | 'null' | 'empty' | 'emptyPolicy';
  /** Packages per page before @odata.nextLink; default 50. */
  pageSize: number;
  /** Delay inside the isolation PUT, between reading the body and storing it (exposes races); default 0. */
  slowPutMs: number;
  /** Service principals registered as management apps; app-only tokens of others get BAP 403. */
  registeredClientIds: string[];
  /** What separates the message from "Trace ID", "Correlation ID" and "Timestamp" in Entra's
   *  error_description. Default 'crlf' ("\r\n", as Entra sends it); 'space' is the older simulator style. */
  entraErrorSeparator: 'crlf' | 'space';
  /** BAP environment resources. Default 'captured': `id` and `type` under `scopes/admin`, no
   *  Dataverse = `linkedEnvironmentMetadata: null`, `instanceApiUrl` = the API host without a path.
   *  'legacy': `id`/`type` without `scopes/admin`, `{"instanceUrl": ""}` for no Dataverse, and
   *  `instanceApiUrl` with `/api/data/v9.2`. */
  environmentShape: 'captured' | 'legacy';
  /** Empty text fields of the install answer's InstancePackage (`applicationDescription`,
   *  `singlePageApplicationUrl`): default 'empty-string' (as the Learn capture), or 'null'. */
  installBodyEmptyText: 'empty-string' | 'null';
  /** The `error` key of a Succeeded operation: default 'absent' (as the terraform capture), or 'null'. */
  succeededOperationError: 'absent' | 'null';
  /** The origin the install's Operation-Location names; default '' (the simulator's own origin).
   *  Another origin shows how a client treats a status URL on a host it was not configured for. */
  operationLocationOrigin: string;
}

export interface MintTokenOptions {
  audience: string;
  tenantId?: string;
  oid?: string;
  upn?: string;
  appid?: string;
  roles?: string[];
  scp?: string;
  expiresInSeconds?: number;
  notBeforeOffsetSeconds?: number;
  issuer?: string;
  kid?: string;
  extraClaims?: Record<string, unknown>;
}

/** ErrorDetails as appmanagement sends it. */
export interface SeedErrorDetails {
  errorCode: number | string;
  errorName: string;
  message: string;
  source: string;
  statusCode: number;
  type: string;
}

export interface SeedEnvironment {
  /** The environment id (a GUID; the default environment's id starts with "Default-" upstream, either works). */
  id: string;
  displayName: string;
  /** BAP location, e.g. 'unitedstates'. */
  location?: string;
  /** 'Default' | 'Production' | 'Sandbox' | 'Teams' | 'Developer' | 'Trial'. */
  environmentSku?: string;
  isDefault?: boolean;
  /** Dataverse instance URL; omit (or '') for an environment without Dataverse. */
  dataverseUrl?: string;
  /** Busy with another package operation for this many (simulated) seconds after the seed: installs get 409. */
  busySeconds?: number;
}

export interface SeedPackage {
  /** Catalog (available) package id. */
  id: string;
  uniqueName: string;
  /** The catalog version (the newest available). */
  version: string;
  localizedName: string;
  localizedDescription?: string;
  applicationId: string;
  applicationName?: string;
  publisherName: string;
  publisherId: string;
  learnMoreUrl?: string;
  crmMinversion?: string;
  /** Environments that offer it; default: every environment with Dataverse. */
  environments?: string[];
  /** Already installed in those environments at this version (older than `version` = update available). */
  installed?: { version: string };
  /** Installed at these versions in these environments (environment id → version); wins over `installed`. */
  installedIn?: Record<string, string>;
  /** Installs in these environments fail (with `install.error` or a generic import failure). */
  failsIn?: string[];
  /** What an install does. Default: succeeds after 5 s (at speed 1). */
  install?: {
    outcome?: 'Succeeded' | 'Failed' | 'Canceled';
    seconds?: number;
    error?: SeedErrorDetails;
    statusMessage?: string;
  };
  /** Localized name/description by LCID (e.g. "1036"); the list's `lcid` picks one, default text otherwise. */
  localized?: Record<string, { name: string; description?: string }>;
  /** errorDetails shown for this package in the tenant package list (hex errorCode there). */
  tenantErrorDetails?: SeedErrorDetails;
  supportedCountries?: string[];
}

export interface SeedTenant {
  tenantId: string;
  domains: string[];
  displayName: string;
}

export interface SimulatorSeed {
  tenantId: string;
  tenantDisplayName?: string;
  tenantDomains: string[];
  otherTenants: SeedTenant[];
  relayApp: {
    clientId: string;
    clientSecret: string;
    /** Audiences a user token for the relay may carry (on-behalf-of input). Default [clientId, `api://${clientId}`]. */
    audiences?: string[];
  };
  environments: SeedEnvironment[];
  packages: SeedPackage[];
  /** The home tenant's stored raw policy; omit or null for "never configured". */
  isolationPolicy?: unknown;
  faults?: FaultSpec[];
  behaviour?: Partial<SimulatorBehaviour>;
}
