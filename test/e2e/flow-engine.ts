// A flow-engine emulator: calls connector actions by operationId through the generated definition,
// with the semantics Power Automate and Logic Apps apply to custom-connector actions
// (as their documentation describes retries and asynchronous actions):
// - the request is built from the definition only (path template, x-ms-url-encoding, query and body
//   parameters), so a wrong path or parameter in the definition fails the call;
// - 408, 429, 5xx and connection errors are retried with the default exponential policy, honouring
//   Retry-After; any other 4xx fails the action at once;
// - 202 + Location is followed: wait Retry-After, GET Location (without the connection's
//   credentials, as Power Automate may), until a non-202 answer, which ends the action;
// - with Pagination on, an operation marked x-ms-pageable is followed through its nextLink (with
//   the connection's credentials, as the connector gateway routes it) and the pages' `value`
//   arrays are joined, up to the threshold.
// Sleeps can be capped (`maxSleepMs`) so tests stay fast; the requested delays are recorded so tests
// can still check what the relay asked for.
import { request } from 'undici';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Exponential retry as in the workflow definition language: count, interval scale and clamps. */
export interface RetryPolicy {
  count: number;
  intervalMs: number;
  minimumIntervalMs: number;
  maximumIntervalMs: number;
}

/** Power Automate's default for a connector action (exponential, 7 s scale). */
export const POWER_AUTOMATE_DEFAULT_RETRY: RetryPolicy = {
  count: 8,
  intervalMs: 7_000,
  minimumIntervalMs: 5_000,
  maximumIntervalMs: 3_600_000,
};

/** Logic Apps' default: 4 retries, exponential, 7.5 s scale, 5 to 45 s. */
export const LOGIC_APPS_DEFAULT_RETRY: RetryPolicy = {
  count: 4,
  intervalMs: 7_500,
  minimumIntervalMs: 5_000,
  maximumIntervalMs: 45_000,
};

export interface FlowEngineOptions {
  definition: Obj;
  /** Where the connector's host really is in the test (replaces scheme://host of the definition). */
  origin: string;
  /** What the maker typed when creating the connection; sent where the definition's security says. */
  connection?: { apiKey?: string; accessToken?: string };
  retry?: RetryPolicy;
  /** Upper bound on any one sleep; the delay asked for is still recorded. Default: no cap. */
  maxSleepMs?: number;
  /** Whether polls of Location carry the connection's credentials (Logic Apps) or not (Power Automate). */
  pollWithCredentials?: boolean;
  /** Makers can turn the async pattern off: the first 202 is then the action's output. */
  asyncPattern?: boolean;
  /** The action's Timeout setting; the async wait ends as TimedOut after this much requested waiting. */
  actionTimeoutMs?: number;
  /** A safety net for tests: never poll more often than this. */
  maxPolls?: number;
  random?: () => number;
}

export interface EngineRequestLog {
  method: string;
  url: string;
  status: number | 'error';
  attempt: number;
  credentials: boolean;
}

export interface ActionResult {
  status: 'Succeeded' | 'Failed' | 'TimedOut';
  statusCode: number;
  // biome-ignore lint/suspicious/noExplicitAny: the action output is whatever JSON the operation returns
  body: any;
  headers: Record<string, string>;
  requests: EngineRequestLog[];
  /** Every delay the engine would have waited (Retry-After or retry backoff), in ms, before capping. */
  requestedDelaysMs: number[];
  polls: number;
}

/** The call does not fit the definition: the flow (or the definition) is wrong. */
export class DefinitionMismatch extends Error {
  override name = 'DefinitionMismatch';
}

export type ActionParameters = Record<string, unknown>;

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

/** What the platform keeps between two checks of a polling trigger. */
export interface TriggerState {
  location: string;
  retryAfterMs: number;
}

export interface TriggerCheck {
  fired: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience, like ActionResult.body
  items: any[];
  statusCode: number;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience
  body: any;
  /** Undefined only when a failed first check gave nothing to follow. */
  next: TriggerState | undefined;
}

export class FlowEngine {
  private readonly options: Required<
    Omit<FlowEngineOptions, 'connection' | 'maxSleepMs' | 'actionTimeoutMs'>
  > &
    FlowEngineOptions;

  constructor(options: FlowEngineOptions) {
    this.options = {
      retry: POWER_AUTOMATE_DEFAULT_RETRY,
      pollWithCredentials: false,
      asyncPattern: true,
      maxPolls: 1_000,
      random: Math.random,
      ...options,
    };
  }

  /** The operation for an operationId, with its path and method. */
  operation(operationId: string): { path: string; method: string; op: Obj } {
    for (const [path, item] of Object.entries((this.options.definition.paths ?? {}) as Record<string, Obj>)) {
      for (const [method, op] of Object.entries(item)) {
        if (isObj(op) && op.operationId === operationId) return { path, method, op };
      }
    }
    throw new DefinitionMismatch(`the definition has no operation ${operationId}`);
  }

  /**
   * Builds the HTTP request the engine sends for an action. `parameters` are named like the
   * designer's code view: path/query parameter names, and `body` or `body/<property>` for the body.
   */
  buildRequest(
    operationId: string,
    parameters: ActionParameters,
  ): { method: string; url: string; body?: string } {
    const { path, method, op } = this.operation(operationId);
    const declared = (op.parameters ?? []) as Obj[];
    const known = new Set(declared.map((p) => String(p.name)));
    let body: Obj | undefined;
    for (const [name, value] of Object.entries(parameters)) {
      if (name === 'body') body = { ...(body ?? {}), ...(value as Obj) };
      else if (name.startsWith('body/')) body = { ...(body ?? {}), [name.slice(5)]: value };
      else if (!known.has(name)) throw new DefinitionMismatch(`${operationId} has no parameter ${name}`);
    }
    let resolvedPath = path;
    const query = new URLSearchParams();
    for (const p of declared) {
      const name = String(p.name);
      const value = parameters[name] ?? (p.required === true ? p.default : undefined);
      if (p.in === 'body') {
        if (!body && p.required === true) throw new DefinitionMismatch(`${operationId} needs a body`);
        if (body) this.checkBody(operationId, p.schema as Obj, body);
        continue;
      }
      if (value === undefined) {
        if (p.required === true) throw new DefinitionMismatch(`${operationId} needs ${name}`);
        continue;
      }
      if (Array.isArray(p.enum) && !p.enum.includes(value)) {
        throw new DefinitionMismatch(
          `${operationId} ${name}: ${JSON.stringify(value)} is not one of ${JSON.stringify(p.enum)}`,
        );
      }
      if (p.in === 'path') {
        const encoded =
          p['x-ms-url-encoding'] === 'double'
            ? encodeURIComponent(encodeURIComponent(String(value)))
            : encodeURIComponent(String(value));
        resolvedPath = resolvedPath.replace(`{${name}}`, encoded);
      } else if (p.in === 'query') query.set(name, String(value));
      else if (p.in === 'header')
        throw new DefinitionMismatch(`${operationId}: header parameters are not emulated`);
    }
    if (body && !declared.some((p) => p.in === 'body'))
      throw new DefinitionMismatch(`${operationId} takes no body`);
    if (/\{[^}]+\}/.test(resolvedPath))
      throw new DefinitionMismatch(`${operationId}: ${resolvedPath} still has a template variable`);
    const basePath = String(this.options.definition.basePath ?? '/').replace(/\/$/, '');
    const qs = query.toString();
    return {
      method: method.toUpperCase(),
      url: `${this.options.origin}${basePath}${resolvedPath}${qs ? `?${qs}` : ''}`,
      ...(body ? { body: JSON.stringify(body) } : {}),
    };
  }

  private checkBody(operationId: string, schema: Obj, body: Obj) {
    const resolved = this.deref(schema);
    const props = (resolved.properties ?? {}) as Record<string, Obj>;
    for (const name of Object.keys(body)) {
      if (!(name in props)) throw new DefinitionMismatch(`${operationId} body has no property ${name}`);
    }
    for (const name of (resolved.required ?? []) as string[]) {
      if (!(name in body)) throw new DefinitionMismatch(`${operationId} body needs ${name}`);
    }
  }

  private deref(schema: Obj): Obj {
    if (typeof schema.$ref !== 'string') return schema;
    const name = schema.$ref.replace('#/definitions/', '');
    return ((this.options.definition.definitions ?? {}) as Record<string, Obj>)[name] ?? {};
  }

  /** Runs one action to its end, the way the engine does. */
  async run(operationId: string, parameters: ActionParameters = {}): Promise<ActionResult> {
    const built = this.buildRequest(operationId, parameters);
    const log: EngineRequestLog[] = [];
    const delays: number[] = [];
    let response = await this.send(built.method, built.url, built.body, true, log, delays);
    let polls = 0;
    let waited = 0;
    while (this.options.asyncPattern && response.statusCode === 202 && response.headers.location) {
      if (polls >= this.options.maxPolls) throw new Error(`${operationId}: still 202 after ${polls} polls`);
      const delay = retryAfterMs(response.headers['retry-after']) ?? 1_000;
      delays.push(delay);
      waited += delay;
      if (this.options.actionTimeoutMs !== undefined && waited > this.options.actionTimeoutMs) {
        return { ...response, status: 'TimedOut', requests: log, requestedDelaysMs: delays, polls };
      }
      await this.sleep(delay);
      const location = new URL(response.headers.location, built.url).toString();
      response = await this.send('GET', location, undefined, this.options.pollWithCredentials, log, delays);
      polls++;
    }
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    return {
      ...response,
      status: ok ? 'Succeeded' : 'Failed',
      requests: log,
      requestedDelaysMs: delays,
      polls,
    };
  }

  /**
   * One check of a polling trigger, as the platform runs it: the first check calls the operation
   * with the maker's parameters; every later one GETs the Location the previous answer gave (through
   * the connection, with its credentials). 202 → nothing fires; 200 → the body's items fire. The
   * state to pass to the next check is the returned `next` (Location and Retry-After).
   */
  async pollTrigger(
    operationId: string,
    parameters: ActionParameters,
    previous?: TriggerState,
  ): Promise<TriggerCheck> {
    const { op } = this.operation(operationId);
    if (op['x-ms-trigger'] === undefined) throw new DefinitionMismatch(`${operationId} is not a trigger`);
    const built = previous ? { method: 'GET', url: previous.location } : this.buildRequest(operationId, parameters);
    const response = await this.send(built.method, built.url, undefined, true, [], []);
    const location = response.headers.location;
    const fired = response.statusCode === 200;
    if (response.statusCode !== 200 && response.statusCode !== 202)
      return { fired: false, items: [], statusCode: response.statusCode, body: response.body, next: previous };
    if (typeof location !== 'string') throw new Error(`${operationId}: ${response.statusCode} without Location`);
    const retryAfter = retryAfterMs(response.headers['retry-after']);
    if (retryAfter === undefined) throw new Error(`${operationId}: ${response.statusCode} without Retry-After`);
    return {
      fired,
      items: fired ? ((response.body as Obj).value as unknown[]) : [],
      statusCode: response.statusCode,
      body: response.body,
      next: { location: new URL(location, built.url).toString(), retryAfterMs: retryAfter },
    };
  }

  /**
   * Runs a pageable action with Pagination on: the first page, then GET nextLink (named by the
   * operation's x-ms-pageable) until it is null or `threshold` items arrived. The output's `value`
   * holds every page's items.
   */
  async runPaged(operationId: string, parameters: ActionParameters = {}, threshold = 100_000): Promise<ActionResult & { pages: number }> {
    const { op } = this.operation(operationId);
    const pageable = op['x-ms-pageable'];
    if (!isObj(pageable) || typeof pageable.nextLinkName !== 'string')
      throw new DefinitionMismatch(`${operationId} is not pageable (no x-ms-pageable.nextLinkName)`);
    const nextLinkName = pageable.nextLinkName;
    const first = await this.run(operationId, parameters);
    if (first.status !== 'Succeeded') return { ...first, pages: 1 };
    const items: unknown[] = [...((first.body?.value as unknown[]) ?? [])];
    const log = [...first.requests];
    const delays = [...first.requestedDelaysMs];
    let next = first.body?.[nextLinkName] as string | null | undefined;
    let last: { statusCode: number; headers: Record<string, string>; body: unknown } = first;
    let pages = 1;
    while (typeof next === 'string' && next && items.length < threshold) {
      last = await this.send('GET', next, undefined, true, log, delays);
      pages++;
      if (last.statusCode < 200 || last.statusCode >= 300) {
        return { ...last, status: 'Failed', requests: log, requestedDelaysMs: delays, polls: 0, pages };
      }
      const body = last.body as Obj;
      items.push(...((body.value as unknown[]) ?? []));
      next = body[nextLinkName] as string | null | undefined;
    }
    return {
      ...last,
      status: 'Succeeded',
      body: { ...(last.body as Obj), value: items.slice(0, threshold) },
      requests: log,
      requestedDelaysMs: delays,
      polls: 0,
      pages,
    };
  }

  /** One request with the retry policy: 408/429/5xx and connection errors are retried. */
  private async send(
    method: string,
    url: string,
    body: string | undefined,
    withCredentials: boolean,
    log: EngineRequestLog[],
    delays: number[],
  ): Promise<{ statusCode: number; headers: Record<string, string>; body: unknown }> {
    const policy = this.options.retry;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(withCredentials ? this.connectionHeaders() : {}),
      };
      let result: { statusCode: number; headers: Record<string, string>; body: unknown } | undefined;
      try {
        const res = await request(url, { method: method as 'GET', headers, body });
        const text = await res.body.text();
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers))
          if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : String(v);
        let parsed: unknown = text;
        if ((flat['content-type'] ?? '').includes('json') && text) parsed = JSON.parse(text);
        result = { statusCode: res.statusCode, headers: flat, body: parsed };
        log.push({ method, url, status: res.statusCode, attempt, credentials: withCredentials });
      } catch (err) {
        log.push({ method, url, status: 'error', attempt, credentials: withCredentials });
        if (attempt >= policy.count) throw err;
      }
      if (result && !RETRYABLE(result.statusCode)) return result;
      if (result && attempt >= policy.count) return result;
      const delay = retryAfterMs(result?.headers['retry-after']) ?? this.backoff(attempt + 1);
      delays.push(delay);
      await this.sleep(delay);
    }
  }

  /** The connection's credentials placed as the definition's securityDefinitions say. */
  connectionHeaders(): Record<string, string> {
    const definitions = (this.options.definition.securityDefinitions ?? {}) as Record<string, Obj>;
    const headers: Record<string, string> = {};
    for (const requirement of (this.options.definition.security ?? []) as Obj[]) {
      for (const name of Object.keys(requirement)) {
        const scheme = definitions[name];
        if (scheme?.type === 'apiKey' && scheme.in === 'header' && this.options.connection?.apiKey) {
          headers[String(scheme.name).toLowerCase()] = this.options.connection.apiKey;
        }
        if (scheme?.type === 'oauth2' && this.options.connection?.accessToken) {
          headers.authorization = `Bearer ${this.options.connection.accessToken}`;
        }
      }
    }
    return headers;
  }

  /** Exponential interval: random in [0.8, 1.2] × (2^n − 1) × interval, clamped to [min, max]. */
  backoff(n: number): number {
    const { intervalMs, minimumIntervalMs, maximumIntervalMs } = this.options.retry;
    const raw = (2 ** n - 1) * intervalMs * (0.8 + 0.4 * this.options.random());
    return Math.round(Math.min(maximumIntervalMs, Math.max(minimumIntervalMs, raw)));
  }

  private sleep(ms: number): Promise<void> {
    const capped = this.options.maxSleepMs === undefined ? ms : Math.min(ms, this.options.maxSleepMs);
    return new Promise((resolve) => setTimeout(resolve, capped));
  }
}

function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
