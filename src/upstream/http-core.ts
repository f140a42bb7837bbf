// Every upstream HTTP call goes through here: token, headers, one attempt on a pooled undici
// connection, and the retry policy. Idempotent calls (GETs) are retried on 401 (once, with a fresh
// token), 408/425/429/5xx and connection errors, with full-jitter backoff or upstream's
// Retry-After, until the call's deadline. Non-idempotent calls (the install POST, the isolation
// PUT) get exactly one attempt: replaying it could start a second install or overwrite a change
// another writer made after ours landed. A call that opts into `resendAfterThrottle` is also
// resent after a 429 (upstream refused it unprocessed), and only then.
// Every failure becomes one UpstreamError carrying status, code, upstream message and correlation id.
import type { Clock } from '../clock.js';
import { type BackoffPolicy, DEFAULT_BACKOFF, retryDelayMs } from './backoff.js';
import { isUnregisteredManagementApp, parseErrorText, unregisteredManagementAppMessage } from './error-body.js';
import { SURFACE_NAMES, UpstreamError, type UpstreamSurface } from './errors.js';
import { type UrlParts, urlParts } from './urls.js';
import type { UpstreamPools } from './pools.js';
import { parseRetryAfterSeconds } from './retry-after.js';
import type { TokenProvider, TokenSurface } from './token-provider.js';
import type { CallContext, UpstreamObserver } from './types.js';


const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);
const USER_AGENT = 'admin-relay/0.1 (+https://github.com/)';

export interface UpstreamRequest {
  surface: UpstreamSurface;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute URL; the origin must be one of the configured upstream hosts (callers build it from config). */
  url: string;
  /** Serialised as JSON when present. */
  body?: unknown;
  ctx: CallContext;
  /** Safe to send again after a failure. False for the install POST and the isolation PUT. */
  idempotent: boolean;
  /** For a non-idempotent call: resend after 429 + Retry-After. A 429 means upstream throttled the
   *  request without processing it, so sending it again cannot apply it twice or over someone
   *  else's later change. Any other failure (5xx, timeout, reset) may have landed: not resent. */
  resendAfterThrottle?: boolean;
  /** Statuses returned to the caller instead of turned into errors. */
  accept: readonly number[];
  /** Which token to send; false for anonymous calls (OpenID discovery). */
  auth: TokenSurface | false;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** Parsed JSON body; undefined when empty or not JSON. */
  json: unknown;
  correlationId?: string;
  attempts: number;
}

export interface HttpCoreDeps {
  pools: UpstreamPools;
  tokens: TokenProvider;
  clock: Clock;
  defaultDeadlineMs: number;
  /** For the "register the service principal" message. */
  clientId?: string;
  bapBaseUrl: string;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Told about every attempt (metrics). */
  observer?: UpstreamObserver;
}

interface AttemptFailure {
  error: UpstreamError;
  retryable: boolean;
}

export class HttpCore {
  constructor(private readonly deps: HttpCoreDeps) {}

  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const { clock } = this.deps;
    const deadline = req.ctx.deadline ?? clock.now() + this.deps.defaultDeadlineMs;
    const started = clock.now();
    let attempts = 0;
    let refreshedToken = false;
    for (;;) {
      attempts++;
      const failure = await this.attempt(req, deadline, attempts);
      if (!('error' in failure)) return failure;
      const { error } = failure;
      if (error.status === 401 && req.auth && !refreshedToken && error.code !== 'ClaimsChallenge') {
        // The cached token may have been revoked or expired early: one more try with a fresh one.
        refreshedToken = true;
        this.deps.tokens.invalidate(req.auth, req.ctx);
        continue;
      }
      if (!failure.retryable) throw error;
      if (!req.idempotent && !(req.resendAfterThrottle && error.kind === 'http' && error.status === 429)) throw error;
      const delay = retryDelayMs(attempts, error.details.retryAfterSeconds, this.deps.backoff ?? DEFAULT_BACKOFF, this.deps.random);
      if (clock.now() + delay >= deadline) throw deadlineError(req, attempts, error, clock.now() - started);
      await clock.sleep(delay, req.ctx.signal);
    }
  }

  private async attempt(req: UpstreamRequest, deadline: number, attempt: number): Promise<UpstreamResponse | AttemptFailure> {
    const { ctx } = req;
    // One controller and one timer per attempt, aborted by the deadline or by the caller's signal.
    // AbortSignal.timeout + AbortSignal.any cost three signals, listener maps and WeakRefs per call.
    const call = new AbortController();
    const timer = setTimeout(() => call.abort(new DOMException('the call deadline passed', 'TimeoutError')), Math.max(1, deadline - this.deps.clock.now()));
    timer.unref();
    const callerSignal = ctx.signal as AbortSignal | undefined;
    const onCallerAbort = () => call.abort(callerSignal?.reason);
    if (callerSignal?.aborted) onCallerAbort();
    else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      return await this.attemptWithin(req, call.signal, attempt);
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }
  }

  private async attemptWithin(req: UpstreamRequest, signal: AbortSignal, attempt: number): Promise<UpstreamResponse | AttemptFailure> {
    const { ctx } = req;
    const url = urlParts(req.url);
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      'x-ms-client-request-id': ctx.correlationId,
    };
    const deadlinePassed = () => signal.aborted && !ctx.signal?.aborted;
    // Token failures are not retried here: identity already retried transient ones. The token
    // fetch counts against the call's deadline: identity retries a failing token endpoint for
    // several seconds, which must not hold the caller past UPSTREAM_DEADLINE_SECONDS.
    if (req.auth) {
      try {
        // identity does not always stop on the signal, so the wait for it is cut here as well.
        const token =
          this.deps.tokens.cachedToken?.(req.auth, ctx) ??
          (await untilAborted(this.deps.tokens.getToken(req.auth, { ...ctx, signal }), signal));
        headers.authorization = `Bearer ${token}`;
      } catch (err) {
        if (!deadlinePassed()) throw err;
        return { error: transportError(req, 'timeout', 'no access token from Entra ID before the call deadline'), retryable: true };
      }
    }
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    try {
      const res = await this.deps.pools.forOrigin(url.origin).request({
        method: req.method,
        path: url.path,
        headers,
        body,
        signal,
      });
      const text = await res.body.text();
      this.observe(url, res.statusCode, attempt);
      const flat = flattenHeaders(res.headers);
      const response: UpstreamResponse = {
        status: res.statusCode,
        headers: flat,
        text,
        json: parseJson(text),
        correlationId: flat['x-ms-correlation-id'] ?? flat['x-ms-request-id'],
        attempts: attempt,
      };
      if (req.accept.includes(res.statusCode)) return response;
      return { error: this.httpError(req, response), retryable: RETRYABLE_STATUSES.has(res.statusCode) };
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      this.observe(url, 'error', attempt);
      if (ctx.signal?.aborted) throw ctx.signal.reason ?? err;
      if (deadlinePassed()) {
        // Retryable in principle; send() sees no time left and reports the deadline with this as the last failure.
        return { error: transportError(req, 'timeout', 'no answer before the call deadline'), retryable: true };
      }
      return classifyTransportError(req, err);
    }
  }

  private observe(url: UrlParts, status: number | 'error', attempt: number) {
    try {
      this.deps.observer?.upstreamCall({ host: url.hostname, status, attempt });
    } catch {
      // metrics must never break a call
    }
  }

  private httpError(req: UpstreamRequest, res: UpstreamResponse): UpstreamError {
    const parsed = parseErrorText(res.text, res.headers['content-type']);
    const retryAfterSeconds = parseRetryAfterSeconds(res.headers['retry-after'], Date.now());
    const common = {
      status: res.status,
      upstreamMessage: parsed.message,
      correlationId: res.correlationId,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      ...(parsed.extra !== undefined ? { extra: parsed.extra } : {}),
    };
    if (isUnregisteredManagementApp(res.status, parsed, res.text)) {
      return new UpstreamError(req.surface, 'http', unregisteredManagementAppMessage(this.deps.clientId, this.deps.bapBaseUrl), {
        ...common,
        code: 'NotRegisteredAsManagementApp',
      });
    }
    const where = SURFACE_NAMES[req.surface];
    const challenge = res.headers['www-authenticate'] ?? '';
    if (res.status === 401 && /claims=/i.test(challenge) && /insufficient_claims/i.test(challenge)) {
      // Continuous Access Evaluation: a new token from the same credential will not satisfy it.
      return new UpstreamError(req.surface, 'http', `${where} refused the relay's token with a Conditional Access claims challenge (continuous access evaluation); an administrator must review the Conditional Access policies that apply to the relay's identity.`, {
        ...common,
        code: 'ClaimsChallenge',
      });
    }
    const what = `${req.method} ${new URL(req.url).pathname}`;
    const code = parsed.code ? ` ${parsed.code}` : '';
    const said = parsed.message ? `: ${parsed.message}` : ' with no error message';
    return new UpstreamError(req.surface, 'http', `${where} answered HTTP ${res.status}${code} to ${what}${said}`, {
      ...common,
      ...(parsed.code ? { code: parsed.code } : {}),
    });
  }
}

function deadlineError(req: UpstreamRequest, attempts: number, last: UpstreamError, elapsedMs: number): UpstreamError {
  return new UpstreamError(
    req.surface,
    'deadline',
    `${SURFACE_NAMES[req.surface]} did not succeed within the call's deadline: gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} in ${Math.round(elapsedMs / 1000)} s. Last failure: ${last.message}`,
    { ...last.details },
  );
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const TLS_CODE = /CERT|SELF_SIGNED|TLS|SSL|HOSTNAME|ALTNAME/i;

function classifyTransportError(req: UpstreamRequest, err: unknown): AttemptFailure {
  if (err instanceof UpstreamError) return { error: err, retryable: false };
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  const detail = [code, e.message ?? e.cause?.message].filter(Boolean).join(' ');
  if (TIMEOUT_CODES.has(code)) return { error: transportError(req, 'timeout', detail), retryable: true };
  // A certificate problem will not fix itself: fail at once with a hint.
  if (TLS_CODE.test(code)) {
    return {
      error: transportError(req, 'network', `${detail}; if upstream uses a private CA (the simulator does), set UPSTREAM_CA_FILE to its PEM`),
      retryable: false,
    };
  }
  return { error: transportError(req, 'network', detail || String(err)), retryable: true };
}

function transportError(req: UpstreamRequest, kind: 'network' | 'timeout', detail: string): UpstreamError {
  const where = SURFACE_NAMES[req.surface];
  const origin = new URL(req.url).origin;
  const maybeSent = req.idempotent
    ? ''
    : ' The request may or may not have reached upstream; it was not repeated, so check the current state before trying again.';
  const verb = kind === 'timeout' ? 'timed out' : 'failed';
  return new UpstreamError(req.surface, kind, `${where} call ${req.method} ${new URL(req.url).pathname} at ${origin} ${verb} (${detail}).${maybeSent}`);
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function parseJson(text: string): unknown {
  // A search, not trim(): trim copies the whole body to learn whether it is blank.
  if (!/\S/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The promise's outcome, or a rejection as soon as the signal aborts (the promise runs on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
