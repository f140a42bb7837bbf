// Longer than most files on purpose: every setting, its default and its error message in one
// place, read top to bottom like the README's table (test/readme-config.test.ts keeps them equal).
// Every setting the relay reads, parsed and validated once. A bad value stops the start with a
// message that names the variable and says what it accepts (see ConfigError).
import { z } from 'zod';
import { normalizeHostPort } from './host-port.js';

export const CLOUD_PRESETS = {
  public: {
    ppapi: 'https://api.powerplatform.com',
    bap: 'https://api.bap.microsoft.com',
    authority: 'https://login.microsoftonline.com',
  },
  usgov: {
    ppapi: 'https://api.gov.powerplatform.microsoft.us',
    bap: 'https://gov.api.bap.microsoft.us',
    authority: 'https://login.microsoftonline.com',
  },
  usgovhigh: {
    ppapi: 'https://api.high.powerplatform.microsoft.us',
    bap: 'https://high.api.bap.microsoft.us',
    authority: 'https://login.microsoftonline.us',
  },
  dod: {
    ppapi: 'https://api.appsplatform.us',
    bap: 'https://api.bap.appsplatform.us',
    authority: 'https://login.microsoftonline.us',
  },
  china: {
    ppapi: 'https://api.powerplatform.partner.microsoftonline.cn',
    bap: 'https://api.bap.partner.microsoftonline.cn',
    authority: 'https://login.chinacloudapi.cn',
  },
} as const;
export type AzureCloud = keyof typeof CLOUD_PRESETS;

export const PERMISSIONS = ['packages.read', 'packages.install', 'isolation.read', 'isolation.write'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = z.preprocess(
  emptyToUndefined,
  z.url({ protocol: /^https?$/, error: 'an absolute http(s) URL such as https://relay.contoso.com' }).optional(),
);
const bool = (fallback: boolean) =>
  z.preprocess(
    (v) => (emptyToUndefined(v) === undefined ? fallback : String(v).toLowerCase()),
    z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])], {
      error: 'true or false',
    }),
  ).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** One named API key as configured: the key itself is never stored, only its SHA-256. */
export interface ApiKeyEntry {
  name: string;
  sha256: string;
  permissions: Permission[];
}

// API_KEYS = "name:sha256hex:perm+perm, name2:sha256hex:*" (hashes, so the keys are never in config).
function parseApiKeys(raw: string | undefined): ApiKeyEntry[] {
  if (!raw) return [];
  return raw
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [name, sha256, perms] = entry.split(':');
      if (!name || !sha256 || !/^[0-9a-f]{64}$/i.test(sha256) || !perms) {
        throw new ConfigError(
          'API_KEYS',
          `entry "${name ?? entry}" must look like name:<sha256 hex of the key>:<permissions joined by + or *>; run "npm run hash-key -- <key>" to get the hash`,
        );
      }
      const permissions =
        perms === '*'
          ? [...PERMISSIONS]
          : perms.split('+').map((p) => {
              if (!(PERMISSIONS as readonly string[]).includes(p)) {
                throw new ConfigError(
                  'API_KEYS',
                  `key "${name}" has unknown permission "${p}"; use ${PERMISSIONS.join(', ')} or *`,
                );
              }
              return p as Permission;
            });
      return { name, sha256: sha256.toLowerCase(), permissions };
    });
}

const rawSchema = z.object({
  PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(3000)),
  HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  PUBLIC_BASE_URL: optionalUrl,
  TRUST_PROXY: bool(false),
  PUBLIC_HOSTS: optionalString,
  UPSTREAM: z.preprocess(emptyToUndefined, z.enum(['simulator', 'live']).optional()),
  AZURE_CLOUD: z.preprocess(
    emptyToUndefined,
    z.enum(Object.keys(CLOUD_PRESETS) as [AzureCloud, ...AzureCloud[]]).default('public'),
  ),
  PPAPI_BASE_URL: optionalUrl,
  BAP_BASE_URL: optionalUrl,
  AZURE_AUTHORITY_HOST: optionalUrl,
  PPAPI_API_VERSION: z.preprocess(emptyToUndefined, z.string().default('2024-10-01')),
  AZURE_TENANT_ID: optionalString,
  AZURE_CLIENT_ID: optionalString,
  AZURE_CLIENT_SECRET: optionalString,
  AZURE_CLIENT_CERTIFICATE_PATH: optionalString,
  AZURE_FEDERATED_TOKEN_FILE: optionalString,
  MANAGED_IDENTITY: bool(false),
  UPSTREAM_CA_FILE: optionalString,
  UPSTREAM_AUTH: z.preprocess(emptyToUndefined, z.enum(['app', 'obo']).default('app')),
  UPSTREAM_DEADLINE_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().min(1).max(600).default(60)),
  INSTALL_DEADLINE_MINUTES: z.preprocess(emptyToUndefined, z.coerce.number().min(1).max(24 * 60).default(20)),
  AUTH_MODE: z.preprocess(emptyToUndefined, z.enum(['entra', 'apikey', 'none']).optional()),
  API_KEYS: optionalString,
  DEMO_API_KEY: optionalString,
  ENTRA_AUDIENCE: optionalString,
  ENTRA_ALLOWED_TENANTS: optionalString,
  WAIT_URL_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(32, { error: 'at least 32 characters of random text, the same on every replica' }).optional(),
  ),
  WAIT_URL_TTL_HOURS: z.preprocess(emptyToUndefined, z.coerce.number().min(1).max(24 * 30).default(48)),
  AUDIT_STORE: z.preprocess(emptyToUndefined, z.string().default('file:./data/audit.jsonl')),
  STATE_STORE: z.preprocess(emptyToUndefined, z.enum(['embedded', 'postgres']).default('embedded')),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .url({
        protocol: /^postgres(ql)?$/,
        error: 'a PostgreSQL URL such as postgres://user@host:5432/relay?sslmode=require',
      })
      .optional(),
  ),
  DATABASE_CA_FILE: optionalString,
  DATABASE_AUTH: z.preprocess(emptyToUndefined, z.enum(['password', 'entra']).default('password')),
  DATABASE_POOL_MAX: z.preprocess(emptyToUndefined, z.coerce.number().int().min(2).max(100).default(10)),
  RATE_LIMIT_PER_MINUTE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(600)),
  AUTH_FAILURES_PER_MINUTE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(30)),
  BODY_LIMIT_BYTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1024).default(256 * 1024)),
  SIMULATOR_SEED: optionalString,
  SIMULATOR_SPEED: z.preprocess(emptyToUndefined, z.coerce.number().positive().default(1)),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});

export interface Config {
  port: number;
  host: string;
  /** Absolute origin used in Location headers and the served swagger; no trailing slash. */
  publicBaseUrl: string;
  /** True when PUBLIC_BASE_URL was not set, so main may fill it in once the port is known. */
  publicBaseUrlDefaulted: boolean;
  trustProxy: boolean;
  /** Forwarded hosts (lower-case host[:port]) that may appear in Location; empty: any well-formed one. */
  publicHosts: string[];
  upstream: 'simulator' | 'live';
  azureCloud: AzureCloud;
  ppapiBaseUrl: string;
  bapBaseUrl: string;
  authorityHost: string;
  ppapiApiVersion: string;
  azureTenantId?: string;
  azureClientId?: string;
  azureClientSecret?: string;
  azureClientCertificatePath?: string;
  azureFederatedTokenFile?: string;
  managedIdentity: boolean;
  /** PEM file with extra CAs trusted for upstream calls (the simulator's CA in tests). */
  upstreamCaFile?: string;
  upstreamAuth: 'app' | 'obo';
  upstreamDeadlineMs: number;
  installDeadlineMs: number;
  authMode: 'entra' | 'apikey' | 'none';
  apiKeys: ApiKeyEntry[];
  demoApiKey?: string;
  entraAudience: string[];
  entraAllowedTenants: string[];
  /** Undefined means "generate one at start" (simulator mode only). */
  waitUrlSecret?: string;
  waitUrlTtlMs: number;
  auditStore: string;
  /** Where shared state lives: in this process (and the audit file) or in PostgreSQL. */
  stateStore: 'embedded' | 'postgres';
  /** Set when stateStore is postgres. */
  database?: DatabaseConfig;
  rateLimitPerMinute: number;
  /** Failed authentications per client address per minute before they get 429 instead of 401. */
  authFailuresPerMinute: number;
  bodyLimitBytes: number;
  simulatorSeed?: string;
  simulatorSpeed: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export interface DatabaseConfig {
  /** The connection URL as given; its sslmode and other parameters are honoured. */
  url: string;
  /** PEM file with the CA(s) to trust for the server's TLS certificate. */
  caFile?: string;
  /** password: whatever the URL carries; entra: a Microsoft Entra token from the relay's own credential. */
  auth: 'password' | 'entra';
  /** Most connections one replica opens at once (the LISTEN connection not counted). */
  poolMax: number;
}

function databaseConfig(e: z.infer<typeof rawSchema>, hasCredentials: boolean): DatabaseConfig | undefined {
  if (e.STATE_STORE !== 'postgres') return undefined;
  if (!e.DATABASE_URL) {
    throw new ConfigError('DATABASE_URL', 'required when STATE_STORE=postgres (postgres://user@host:5432/db)');
  }
  if (e.DATABASE_AUTH === 'entra' && !hasCredentials) {
    throw new ConfigError(
      'DATABASE_AUTH',
      'entra needs the relay\'s own credential: AZURE_TENANT_ID and AZURE_CLIENT_ID with a secret, certificate or federated token file, or MANAGED_IDENTITY=true',
    );
  }
  return { url: e.DATABASE_URL, caFile: e.DATABASE_CA_FILE, auth: e.DATABASE_AUTH, poolMax: e.DATABASE_POOL_MAX };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = rawSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const given = env[variable];
    throw new ConfigError(variable, `${issue.message}${given === undefined ? '' : ` (got "${given}")`}`);
  }
  const e = parsed.data;
  const hasCredentials = Boolean(e.AZURE_CLIENT_ID || e.MANAGED_IDENTITY);
  const upstream = e.UPSTREAM ?? (hasCredentials ? 'live' : 'simulator');
  const preset = CLOUD_PRESETS[e.AZURE_CLOUD];
  const authMode = e.AUTH_MODE ?? (upstream === 'live' ? 'entra' : 'apikey');

  if (upstream === 'live') {
    if (!e.AZURE_TENANT_ID) throw new ConfigError('AZURE_TENANT_ID', 'required when UPSTREAM=live');
    if (!hasCredentials)
      throw new ConfigError(
        'AZURE_CLIENT_ID',
        'UPSTREAM=live needs credentials: AZURE_CLIENT_ID with AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE, or MANAGED_IDENTITY=true',
      );
    if (!e.WAIT_URL_SECRET)
      throw new ConfigError('WAIT_URL_SECRET', 'required when UPSTREAM=live (32+ random characters, shared by all replicas)');
  }
  if (authMode === 'none' && (upstream !== 'simulator' || !LOOPBACK.test(e.HOST))) {
    throw new ConfigError(
      'AUTH_MODE',
      `"none" is only allowed with UPSTREAM=simulator on a loopback HOST (got UPSTREAM=${upstream}, HOST=${e.HOST}); use apikey or entra`,
    );
  }
  if (e.DEMO_API_KEY && upstream !== 'simulator') {
    // The demo key is kept in clear and holds every permission: fine against simulated data, an
    // open door in front of a real tenant (a short one could switch tenant isolation off).
    throw new ConfigError(
      'DEMO_API_KEY',
      `is for the simulator demo only and is refused with UPSTREAM=${upstream}; remove it and configure hashed keys in API_KEYS (run "npm run hash-key -- <key> <name> <permissions>" to make an entry), or use AUTH_MODE=entra`,
    );
  }
  const apiKeys = parseApiKeys(e.API_KEYS);
  if (authMode === 'apikey' && upstream === 'live' && apiKeys.length === 0) {
    throw new ConfigError('API_KEYS', 'AUTH_MODE=apikey with UPSTREAM=live needs at least one key');
  }
  const entraAudience = (e.ENTRA_AUDIENCE ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (authMode === 'entra' && upstream === 'live' && entraAudience.length === 0) {
    throw new ConfigError('ENTRA_AUDIENCE', 'AUTH_MODE=entra needs the relay app id URI and/or client id');
  }
  const entraAllowedTenants = (e.ENTRA_ALLOWED_TENANTS ?? e.AZURE_TENANT_ID ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

  const publicHosts = (e.PUBLIC_HOSTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const host = normalizeHostPort(entry);
      if (!host) {
        throw new ConfigError('PUBLIC_HOSTS', `"${entry}" is not a host[:port]; list public host names such as relay.contoso.com,relay.contoso.com:8443 (comma separated, no scheme or path)`);
      }
      return host;
    });

  const publicHost = e.HOST === '0.0.0.0' || e.HOST === '::' ? '127.0.0.1' : e.HOST;
  const auditStore = e.AUDIT_STORE;
  if (!/^(file:.+|memory)$/.test(auditStore)) {
    throw new ConfigError('AUDIT_STORE', `use file:<path> or memory (got "${auditStore}")`);
  }

  return {
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://${publicHost}:${e.PORT}`).replace(/\/+$/, ''),
    publicBaseUrlDefaulted: !e.PUBLIC_BASE_URL,
    trustProxy: e.TRUST_PROXY,
    publicHosts,
    upstream,
    azureCloud: e.AZURE_CLOUD,
    ppapiBaseUrl: (e.PPAPI_BASE_URL ?? preset.ppapi).replace(/\/+$/, ''),
    bapBaseUrl: (e.BAP_BASE_URL ?? preset.bap).replace(/\/+$/, ''),
    authorityHost: (e.AZURE_AUTHORITY_HOST ?? preset.authority).replace(/\/+$/, ''),
    ppapiApiVersion: e.PPAPI_API_VERSION,
    azureTenantId: e.AZURE_TENANT_ID,
    azureClientId: e.AZURE_CLIENT_ID,
    azureClientSecret: e.AZURE_CLIENT_SECRET,
    azureClientCertificatePath: e.AZURE_CLIENT_CERTIFICATE_PATH,
    azureFederatedTokenFile: e.AZURE_FEDERATED_TOKEN_FILE,
    managedIdentity: e.MANAGED_IDENTITY,
    upstreamCaFile: e.UPSTREAM_CA_FILE,
    upstreamAuth: e.UPSTREAM_AUTH,
    upstreamDeadlineMs: e.UPSTREAM_DEADLINE_SECONDS * 1000,
    installDeadlineMs: e.INSTALL_DEADLINE_MINUTES * 60_000,
    authMode,
    apiKeys,
    demoApiKey: e.DEMO_API_KEY,
    entraAudience,
    entraAllowedTenants,
    waitUrlSecret: e.WAIT_URL_SECRET,
    waitUrlTtlMs: e.WAIT_URL_TTL_HOURS * 3_600_000,
    auditStore,
    stateStore: e.STATE_STORE,
    database: databaseConfig(e, hasCredentials),
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    authFailuresPerMinute: e.AUTH_FAILURES_PER_MINUTE,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    simulatorSeed: e.SIMULATOR_SEED,
    simulatorSpeed: e.SIMULATOR_SPEED,
    logLevel: e.LOG_LEVEL,
  };
}
